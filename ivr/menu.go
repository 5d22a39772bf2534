package ivr

import (
	"context"
	"time"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

// Directory is what the menu reads of the directory (*store.Directory).
type Directory interface {
	LookupConference(id string) (store.Conference, bool)
	// MayExist is false for an entry that is a typo by its form (a wrong
	// check digit while no ID was imported without one).
	MayExist(id string) bool
	VerifyOrganizerPIN(ctx context.Context, id, pin string) (store.PINResult, error)
}

// Meetings is what the menu asks of the meetings: whether one is on, in
// which case nobody is asked for the organizer's PIN.
type Meetings interface {
	Started(conferenceID string) bool
}

// Entry is who a caller is, as the menu found out: which meeting they
// asked for and whether they proved to be its organizer.
type Entry struct {
	ConferenceID string
	Conference   store.Conference
	// Organizer: the caller gave the organizer's PIN, which starts the
	// meeting.
	Organizer bool
	// Outcome is how the menu ended, found or not (for the call's record).
	Outcome Outcome
}

// Outcome is how a caller's way through the menu ended.
type Outcome string

const (
	OutcomeFound    Outcome = "found"     // the conference ID was found
	OutcomeNotFound Outcome = "not found" // wrong conference IDs up to the attempts
	OutcomeGaveUp   Outcome = "gave up"   // no conference ID entered
	OutcomeRefused  Outcome = "refused"   // the guard refused the caller
	OutcomeHungUp   Outcome = "hung up"   // the call ended in the menu
)

// Menu is the dial-in IVR of DESIGN.md: welcome, conference ID, the
// organizer's PIN when the meeting waits for its organizer, then the lobby
// or the meeting. It finds out who the caller is; taking them into the
// meeting is the bridge's job, which the composition root hands them to.
type Menu struct {
	Prompts   *prompts.Set
	Directory Directory
	Meetings  Meetings
	Guard     *Guard // nil: nobody is refused
	Config    config.IVR

	stats menuStats // for metrics (stats.go)
}

// maxPINDigits ends a PIN entry that has no '#': no PIN is longer.
const maxPINDigits = store.MaxPINLength

// menuCall is one caller's way through the menu.
type menuCall struct {
	*Menu
	call Call
	// An entry that ended on its own (seven digits) is often followed by
	// the '#' the prompt asked for; it belongs to that entry, so a '#'
	// before this time is dropped rather than cutting the next prompt.
	dropPoundUntil time.Time
	outcome        Outcome // why the menu ended without an entry; "": hung up
}

// end notes why the menu ends without an entry, once: the first reason stands.
func (mc *menuCall) end(o Outcome) {
	if mc.outcome == "" {
		mc.outcome = o
	}
}

// failedEntry is the menu's answer when it ends without an entry.
func (mc *menuCall) failedEntry() (Entry, bool) {
	mc.end(OutcomeHungUp)
	return Entry{Outcome: mc.outcome}, false
}

// key filters a key read from the call: false means ignore it.
func (mc *menuCall) key(k byte) bool {
	if k == '#' && time.Now().Before(mc.dropPoundUntil) {
		mc.dropPoundUntil = time.Time{}
		return false
	}
	mc.dropPoundUntil = time.Time{}
	return true
}

// Identify plays the menu on call and returns who the caller is. False
// means the call is over for the menu: refused, gave up, or hung up (ctx
// ended); the caller has heard why.
func (m *Menu) Identify(ctx context.Context, call Call) (Entry, bool) {
	return (&menuCall{Menu: m, call: call}).identify(ctx)
}

func (m *menuCall) identify(ctx context.Context) (Entry, bool) {
	call := m.call
	log := call.Log()
	p := m.Prompts.MustGet
	if refused, until := m.Guard.Refused(call.Caller(), call.SourceIP()); refused {
		m.stats.callsRefused.Add(1)
		log.Warn().Str("caller", call.Caller()).Str("source_ip", call.SourceIP()).Time("until", until).
			Msg("call refused: too many failed conference IDs or PINs from this caller")
		m.end(OutcomeRefused)
		_ = play(ctx, call, p(prompts.TooManyAttempts), p(prompts.TryLater))
		return m.failedEntry()
	}
	id, conf, ok := m.askConferenceID(ctx)
	if !ok {
		return m.failedEntry()
	}
	e := Entry{ConferenceID: id, Conference: conf, Outcome: OutcomeFound}
	if conf.RequireOrganizer && !m.Meetings.Started(id) {
		m.call.Log().Info().Str("conference_id", id).Msg("meeting not on: offering the organizer's PIN")
		e.Organizer, ok = m.askOrganizer(ctx, id)
		if !ok || ctx.Err() != nil {
			return m.failedEntry()
		}
	}
	return e, true
}

// askConferenceID reads conference IDs until one is found, giving up
// (goodbye) after MaxAttempts wrong ones or two prompts without a key.
func (m *menuCall) askConferenceID(ctx context.Context) (string, store.Conference, bool) {
	call := m.call
	log := call.Log()
	p := m.Prompts.MustGet
	list := []*media.Prompt{p(prompts.Welcome), p(prompts.EnterConferenceID)}
	silent, failed := 0, 0
	for {
		entry, status := m.readEntry(ctx, list, store.ConferenceIDLength)
		switch status {
		case entryHangup:
			return "", store.Conference{}, false
		case entryNoInput:
			silent++
			if silent >= 2 {
				m.stats.idGaveUp.Add(1)
				log.Info().Msg("no conference ID entered: goodbye")
				m.end(OutcomeGaveUp)
				_ = play(ctx, call, p(prompts.NoDigits), p(prompts.Goodbye))
				return "", store.Conference{}, false
			}
			list = []*media.Prompt{p(prompts.NoDigits), p(prompts.EnterConferenceID)}
			continue
		}
		// An ID with a wrong check digit is a typo, never a guess: it does
		// not draw on a carrier's budget. Once IDs without a check digit
		// were imported, any seven digits may hit one, so every entry does.
		turn, ok := m.turn(ctx, m.Directory.MayExist(entry))
		if !ok {
			return "", store.Conference{}, false
		}
		if conf, ok := m.Directory.LookupConference(entry); ok {
			turn.Right()
			m.stats.idFound.Add(1)
			log.Info().Str("conference_id", entry).Bool("require_organizer", conf.RequireOrganizer).Msg("conference ID found")
			return entry, conf, true
		}
		failed++
		m.stats.idNotFound.Add(1)
		if !m.failed(ctx, turn, "conference ID not found", failed) {
			return "", store.Conference{}, false
		}
		if failed >= m.Config.MaxAttempts {
			m.end(OutcomeNotFound)
			_ = play(ctx, call, p(prompts.TooManyAttempts), p(prompts.Goodbye))
			return "", store.Conference{}, false
		}
		list = []*media.Prompt{p(prompts.InvalidConferenceID), p(prompts.EnterConferenceID)}
	}
}

// askOrganizer offers the organizer's way in: star, then the PIN. It
// reports whether the caller proved to be the organizer; everyone else
// goes on as an attendee. ok is false when the call is over for the menu
// (the guard refused the caller, or they hung up).
func (m *menuCall) askOrganizer(ctx context.Context, id string) (organizer, ok bool) {
	call := m.call
	log := call.Log()
	p := m.Prompts.MustGet
	if !m.waitForStar(ctx) {
		return false, true
	}
	list := []*media.Prompt{p(prompts.EnterPIN)}
	silent, failed := 0, 0
	for {
		pin, status := m.readEntry(ctx, list, maxPINDigits)
		switch status {
		case entryHangup:
			return false, false
		case entryNoInput:
			silent++
			if silent >= 2 {
				_ = play(ctx, call, p(prompts.JoinAsGuest))
				return false, true
			}
			list = []*media.Prompt{p(prompts.NoDigits), p(prompts.EnterPIN)}
			continue
		}
		// A caller the guard refuses, or a carrier past its budget, never
		// reaches the PIN check: their guesses do not lock the organizer.
		turn, ok := m.turn(ctx, true)
		if !ok {
			return false, false
		}
		result, err := m.Directory.VerifyOrganizerPIN(ctx, id, pin)
		if err != nil {
			log.Error().Err(err).Msg("saving the PIN's lock failed; it is locked in memory")
		}
		switch result {
		case store.PINOK:
			turn.Right()
			m.stats.pinOK.Add(1)
			log.Info().Str("conference_id", id).Msg("organizer PIN accepted")
			return true, true
		case store.PINLocked:
			m.stats.pinLocked.Add(1)
			// Counted: the attempt that locks the PIN is answered so too.
			if !m.failed(ctx, turn, "organizer PIN locked", failed+1) {
				return false, false
			}
			_ = play(ctx, call, p(prompts.PINLocked), p(prompts.JoinAsGuest))
			return false, true
		}
		failed++
		m.stats.pinWrong.Add(1)
		if !m.failed(ctx, turn, "organizer PIN wrong", failed) {
			return false, false
		}
		if failed >= m.Config.MaxAttempts {
			_ = play(ctx, call, p(prompts.TooManyAttempts), p(prompts.JoinAsGuest))
			return false, true
		}
		list = []*media.Prompt{p(prompts.WrongPIN), p(prompts.EnterPIN)}
	}
}

// waitForStar plays the organizer prompt and waits OrganizerWait for '*';
// other keys are ignored.
func (m *menuCall) waitForStar(ctx context.Context) bool {
	call := m.call
	prompt := m.Prompts.MustGet(prompts.OrganizerPressStar)
	done := call.PlayUntilKey(prompt)
	playing := newPlaying(prompt)
	wait := time.NewTimer(m.Config.OrganizerWait)
	defer wait.Stop()
	// The wait counts from the end of the prompt, or from the key that cut it.
	for {
		select {
		case <-done:
			done = nil
			wait.Reset(m.Config.OrganizerWait)
		case key := <-call.Digits():
			if !m.key(key) {
				// The entry's own '#' cut the prompt: play it again.
				if playing.cut() {
					done = call.PlayUntilKey(prompt)
					playing = newPlaying(prompt)
				}
				continue
			}
			call.StopPlay()
			if key == '*' {
				return true
			}
		case <-wait.C:
			if done == nil {
				return false
			}
			wait.Reset(m.Config.OrganizerWait)
		case <-ctx.Done():
			call.StopPlay()
			return false
		}
	}
}

// turn asks the guard for an entry's turn to be checked, and waits for it.
// False: the call is over for the menu (refused, over the carrier's rate,
// or hung up while waiting); the caller has heard why.
func (m *menuCall) turn(ctx context.Context, metered bool) (*Attempt, bool) {
	call := m.call
	log := call.Log()
	a := m.Guard.Begin(call.Caller(), call.SourceIP(), metered)
	switch a.Verdict {
	case Refused:
		m.stats.entriesRefused.Add(1)
		log.Warn().Str("caller", call.Caller()).Str("source_ip", call.SourceIP()).Time("until", a.Until).
			Msg("entry refused: too many failed conference IDs or PINs from this caller")
		m.refuse(ctx)
		return nil, false
	case OverRate:
		m.stats.overRate.Add(1)
		log.Warn().Str("caller", call.Caller()).Str("carrier", a.Carrier).
			Msg("entry not checked: the carrier is over its guessing rate")
		m.refuse(ctx)
		return nil, false
	}
	if a.Wait > 0 {
		log.Info().Str("carrier", a.Carrier).Dur("wait", a.Wait).Msg("carrier over its guessing rate: the entry waits its turn")
		t := time.NewTimer(a.Wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			a.Cancel()
			return nil, false
		}
	}
	return a, true
}

// refuse tells a caller the guard refused to try again later.
func (m *menuCall) refuse(ctx context.Context) {
	m.end(OutcomeRefused)
	p := m.Prompts.MustGet
	_ = play(ctx, m.call, p(prompts.TooManyAttempts), p(prompts.TryLater))
}

// failed logs a failed conference ID or PIN (never its digits), counted
// by the guard when its turn was given. False: that failure reached the
// limit, the caller is refused and has heard so.
func (m *menuCall) failed(ctx context.Context, turn *Attempt, what string, attempt int) bool {
	call := m.call
	r := turn.Wrong()
	ev := call.Log().Info()
	if r.Blocked {
		ev = call.Log().Warn()
	}
	ev.Int("attempt", attempt).Int("number_failures", r.NumberFailures).Int("address_failures", r.AddressFailures).
		Bool("caller_blocked", r.Blocked).Msg(what)
	if r.Blocked {
		m.stats.blocked.Add(1)
		m.refuse(ctx)
		return false
	}
	return true
}

// entryStatus is how an entry ended.
type entryStatus int

const (
	entryDone    entryStatus = iota // keys, ended by '#', by max keys or by the inter-digit timeout
	entryNoInput                    // no key before the first-digit timeout
	entryHangup                     // the call ended
)

// readEntry plays prompts (any key stops them; keys are kept) and reads
// keys up to '#' or max keys. The first-digit timeout runs from the end
// of the prompts, the inter-digit timeout from each key. '#' alone is an
// empty entry, not a missing one.
func (m *menuCall) readEntry(ctx context.Context, list []*media.Prompt, max int) (string, entryStatus) {
	call := m.call
	done := call.PlayUntilKey(list...)
	playing := newPlaying(list...)
	keys := make([]byte, 0, max)
	var timeout <-chan time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	arm := func(d time.Duration) {
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		timeout = timer.C
	}
	for {
		select {
		case <-done:
			done = nil
			if len(keys) == 0 {
				arm(m.Config.FirstDigitTimeout)
			}
		case key := <-call.Digits():
			if !m.key(key) {
				// The last entry's own '#' cut the prompts: play them again.
				if len(keys) == 0 && playing.cut() {
					done = call.PlayUntilKey(list...)
					playing = newPlaying(list...)
					timeout = nil // armed again when they end
				}
				continue
			}
			if done != nil {
				call.StopPlay() // the call stops it too; this covers a call that does not
				done = nil
			}
			if key == '#' {
				return string(keys), entryDone
			}
			keys = append(keys, key)
			if len(keys) >= max {
				m.dropPoundUntil = time.Now().Add(m.Config.InterDigitTimeout)
				return string(keys), entryDone
			}
			arm(m.Config.InterDigitTimeout)
		case <-timeout:
			if len(keys) == 0 {
				return "", entryNoInput
			}
			return string(keys), entryDone
		case <-ctx.Done():
			call.StopPlay()
			return "", entryHangup
		}
	}
}

// playing is when prompts started and how long they last, to tell whether
// a key cut them (the call stops them by itself on a key).
type playing struct {
	until time.Time
}

func newPlaying(list ...*media.Prompt) playing {
	var d time.Duration
	for _, p := range list {
		d += p.Duration()
	}
	return playing{until: time.Now().Add(d)}
}

// cut reports whether the prompts would still be playing now.
func (p playing) cut() bool { return time.Now().Before(p.until) }
