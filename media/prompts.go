package media

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The recorded prompts, made by scripts/make-prompts.sh and committed.
//
//go:embed prompts/*.wav
var embeddedPrompts embed.FS

// Prompt names: the file names in media/prompts without ".wav". Callers use
// these constants, never string literals, so a typo fails to compile.
const (
	PromptWelcome             = "welcome"
	PromptEnterConferenceID   = "enter_conference_id"
	PromptYouEntered          = "you_entered"
	PromptNoDigits            = "no_digits"
	PromptGoodbye             = "goodbye"
	PromptDigit0              = "digit_0"
	PromptDigit1              = "digit_1"
	PromptDigit2              = "digit_2"
	PromptDigit3              = "digit_3"
	PromptDigit4              = "digit_4"
	PromptDigit5              = "digit_5"
	PromptDigit6              = "digit_6"
	PromptDigit7              = "digit_7"
	PromptDigit8              = "digit_8"
	PromptDigit9              = "digit_9"
	PromptStar                = "star"
	PromptPound               = "pound"
	PromptInvalidConferenceID = "invalid_conference_id"
	PromptOrganizerPressStar  = "organizer_press_star"
	PromptEnterPIN            = "enter_pin"
	PromptWrongPIN            = "wrong_pin"
	PromptPINLocked           = "pin_locked"
	PromptJoinAsGuest         = "join_as_guest"
	PromptLobbyWait           = "lobby_wait"
	PromptMeetingStarted      = "meeting_started"
	PromptJoining             = "joining"
	PromptTooManyAttempts     = "too_many_attempts"
	PromptTryLater            = "try_later"
	PromptLeftMeeting         = "left_meeting"
	PromptJoinedMeeting       = "joined_meeting"
	PromptOnlyParticipant     = "only_participant"
	PromptMusicOnHold         = "music_on_hold"

	// The lobby, and why a call cannot join or was ended.
	PromptLobbyNotice        = "lobby_notice"
	PromptLobbyNoticeStarted = "lobby_notice_started"
	PromptLobbyTimeout       = "lobby_timeout"
	PromptMeetingFull        = "meeting_full"
	PromptMeetingIsLocked    = "meeting_is_locked"
	PromptMeetingEnded       = "meeting_ended"
	PromptRemoved            = "removed"

	// The help menu: PromptHelpIntro, then for each key PromptHelpPress,
	// the key (DigitPrompt) and what it does.
	PromptHelpIntro    = "help_intro"
	PromptHelpPress    = "help_press"
	PromptHelpHelp     = "help_help"
	PromptHelpCount    = "help_count"
	PromptHelpHand     = "help_hand"
	PromptHelpMute     = "help_mute"
	PromptHelpLock     = "help_lock"
	PromptHelpAdmit    = "help_admit"
	PromptHelpMuteAll  = "help_mute_all"
	PromptHelpAnnounce = "help_announce"

	// The head count: PromptThereAre, NumberPrompts(n),
	// PromptParticipantsInMeeting.
	PromptThereAre              = "there_are"
	PromptParticipantsInMeeting = "participants_in_meeting"

	// Answers to the in-meeting keys.
	PromptHandRaised       = "hand_raised"
	PromptHandLowered      = "hand_lowered"
	PromptMuted            = "muted"
	PromptUnmuted          = "unmuted"
	PromptMutedByOrganizer = "muted_by_organizer"
	PromptMeetingLocked    = "meeting_locked"
	PromptMeetingUnlocked  = "meeting_unlocked"
	PromptLobbyAdmitted    = "lobby_admitted"
	PromptLobbyEmpty       = "lobby_empty"
	PromptAttendeesMuted   = "attendees_muted"
	PromptAttendeesUnmuted = "attendees_unmuted"
	PromptAnnouncementsOn  = "announcements_on"
	PromptAnnouncementsOff = "announcements_off"
	PromptOrganizerOnly    = "organizer_only"
	PromptInvalidKey       = "invalid_key"

	// Tones, not speech: two short beeps, rising for a join and falling
	// for a leave, brief enough to play over a meeting.
	PromptJoinTone  = "join_tone"
	PromptLeaveTone = "leave_tone"
)

// NumberPrompts names the prompts that say n in English words, as US
// English does, without "and": 137 is "one hundred thirty seven"
// (number_1 number_hundred number_30 number_7). The recordings go up to
// 999; n is clamped to 0..999, so a count too big to say is said as 999
// rather than as nothing.
func NumberPrompts(n int) []string {
	n = max(0, min(n, 999))
	if n == 0 {
		return []string{"number_0"}
	}
	var names []string
	if h := n / 100; h > 0 {
		names = append(names, "number_"+strconv.Itoa(h), "number_hundred")
	}
	switch r := n % 100; {
	case r >= 20:
		names = append(names, "number_"+strconv.Itoa(r/10*10))
		if r%10 != 0 {
			names = append(names, "number_"+strconv.Itoa(r%10))
		}
	case r > 0:
		names = append(names, "number_"+strconv.Itoa(r))
	}
	return names
}

// DigitPrompt names the prompt that speaks a DTMF key: '0'-'9' → "digit_N",
// '*' → "star", '#' → "pound". Other keys (A-D) have no prompt: "".
func DigitPrompt(key byte) string {
	switch {
	case key >= '0' && key <= '9':
		return "digit_" + string(key)
	case key == '*':
		return PromptStar
	case key == '#':
		return PromptPound
	}
	return ""
}

// Prompt is a recorded message, pre-encoded so playback is a copy.
type Prompt struct {
	Name string
	// PCM is the linear samples, padded with silence to a whole number of
	// 20 ms frames; nil after DropPCM (calls play the encoded frames).
	PCM []int16

	ulaw, alaw []byte // one byte a sample
}

// newPrompt pads pcm to whole frames and encodes it in both laws, once, so
// that no call ever encodes a prompt.
func newPrompt(name string, pcm []int16) *Prompt {
	n := (len(pcm) + FrameSamples - 1) / FrameSamples * FrameSamples
	padded := make([]int16, n) // zero is silence
	copy(padded, pcm)
	p := &Prompt{
		Name: name,
		PCM:  padded,
		ulaw: make([]byte, n),
		alaw: make([]byte, n),
	}
	PCMU.Encode(p.ulaw, padded)
	PCMA.Encode(p.alaw, padded)
	return p
}

// Frames returns the prompt encoded for codec c; its length is a multiple
// of FrameBytes. The slice is shared by every call playing the prompt:
// read it, never write to it.
func (p *Prompt) Frames(c Codec) []byte {
	if c == PCMA {
		return p.alaw
	}
	return p.ulaw
}

// FrameCount is the number of 20 ms frames in the prompt.
func (p *Prompt) FrameCount() int { return len(p.ulaw) / FrameSamples }

// Duration is how long the prompt plays, padding included.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(len(p.ulaw)) * time.Second / SampleRate
}

// DropPCM lets the linear samples go: calls play the encoded frames, and
// only audio mixed into a meeting (the join and leave tones) needs PCM.
// Call it at start-up, before the prompt is shared.
func (p *Prompt) DropPCM() { p.PCM = nil }

// Prompts is the loaded set, read-only after LoadPrompts (safe for
// concurrent use).
type Prompts struct {
	byName map[string]*Prompt
	names  []string // sorted
}

// DropPCM drops the linear samples of every prompt but those named in
// keep (see Prompt.DropPCM): half of the prompts' memory, most of it the
// music-on-hold. Call it at start-up, before the prompts are shared.
func (ps *Prompts) DropPCM(keep ...string) {
	for name, p := range ps.byName {
		if !slices.Contains(keep, name) {
			p.DropPCM()
		}
	}
}

// LoadPrompts decodes the embedded prompts and, when overrideDir is not
// empty, replaces any of them with the WAV of the same name (name.wav) in
// that folder. Files in overrideDir that match no known prompt name are an
// error naming the file, to catch typos; a bad WAV is an error naming the
// file and the reason. Hidden files (".DS_Store", editor swap files) and
// sub-folders are ignored.
func LoadPrompts(overrideDir string) (*Prompts, error) {
	ps := &Prompts{byName: make(map[string]*Prompt)}

	entries, err := embeddedPrompts.ReadDir("prompts")
	if err != nil {
		return nil, fmt.Errorf("prompts: %v", err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".wav")
		b, err := embeddedPrompts.ReadFile(path.Join("prompts", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("prompts: embedded %s: %v", e.Name(), err)
		}
		p, err := decodePrompt(name, b)
		if err != nil {
			return nil, fmt.Errorf("prompts: embedded %s: %v", e.Name(), err)
		}
		ps.byName[name] = p
		ps.names = append(ps.names, name)
	}
	sort.Strings(ps.names)

	if overrideDir == "" {
		return ps, nil
	}
	files, err := os.ReadDir(overrideDir)
	if err != nil {
		return nil, fmt.Errorf("prompts: override folder: %v", err)
	}
	for _, f := range files {
		if f.IsDir() || strings.HasPrefix(f.Name(), ".") {
			continue
		}
		file := filepath.Join(overrideDir, f.Name())
		name, isWAV := strings.CutSuffix(f.Name(), ".wav")
		if _, known := ps.byName[name]; !isWAV || !known {
			return nil, fmt.Errorf("prompts: %s matches no prompt; the names are %s.wav",
				file, strings.Join(ps.names, ".wav, "))
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("prompts: %v", err)
		}
		p, err := decodePrompt(name, b)
		if err != nil {
			return nil, fmt.Errorf("prompts: %s: %v", file, err)
		}
		ps.byName[name] = p
	}
	return ps, nil
}

// decodePrompt turns a WAV file into a Prompt. An empty recording is
// refused: a prompt that plays nothing is a mistake, not a choice.
func decodePrompt(name string, wav []byte) (*Prompt, error) {
	pcm, err := ReadWAV(bytes.NewReader(wav))
	if err != nil {
		return nil, err
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("wav: no samples")
	}
	return newPrompt(name, pcm), nil
}

// Get returns the named prompt.
func (ps *Prompts) Get(name string) (*Prompt, bool) {
	p, ok := ps.byName[name]
	return p, ok
}

// MustGet returns the named prompt and panics if there is none: for names
// that are constants in our code, where a miss is a programming error that
// the tests catch.
func (ps *Prompts) MustGet(name string) *Prompt {
	p, ok := ps.byName[name]
	if !ok {
		panic(fmt.Sprintf("media: no prompt named %q", name))
	}
	return p
}

// Names lists the prompt names, sorted.
func (ps *Prompts) Names() []string {
	return append([]string(nil), ps.names...)
}

// LoadPromptFile reads one WAV file (8 kHz, mono, 16-bit PCM) as a prompt
// called name, such as an operator's own music-on-hold.
func LoadPromptFile(name, path string) (*Prompt, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := decodePrompt(name, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
