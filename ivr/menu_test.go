package ivr

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

// fakeDirectory knows one conference per ID with its organizer's PIN.
type fakeDirectory struct {
	mu     sync.Mutex
	confs  map[string]store.Conference
	pins   map[string]string
	locked map[string]bool
	tries  int
}

func (d *fakeDirectory) LookupConference(id string) (store.Conference, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.confs[id]
	return c, ok
}

func (d *fakeDirectory) MayExist(id string) bool { return store.ValidConferenceID(id) }

func (d *fakeDirectory) VerifyOrganizerPIN(_ context.Context, id, pin string) (store.PINResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tries++
	switch {
	case d.locked[id]:
		return store.PINLocked, nil
	case d.pins[id] == pin:
		return store.PINOK, nil
	}
	return store.PINWrong, nil
}

// fakeMeetings says which meetings are on and records who the menu
// identified (who would join).
type fakeMeetings struct {
	mu      sync.Mutex
	started map[string]bool
	joins   []Entry
}

func (m *fakeMeetings) Started(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started[id]
}

func (m *fakeMeetings) join(e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.joins = append(m.joins, e)
}

type menuEnv struct {
	menu  *Menu
	dir   *fakeDirectory
	meets *fakeMeetings
	logs  *safeBuffer
	now   time.Time
}

const (
	testID  = "1234564" // any 7 keys: the fake directory does not check digits
	testPIN = "86420"
)

func newMenuEnv(t *testing.T) *menuEnv {
	e := &menuEnv{
		dir: &fakeDirectory{
			confs:  map[string]store.Conference{testID: {OrganizerID: 1, Static: true, RequireOrganizer: true}},
			pins:   map[string]string{testID: testPIN},
			locked: map[string]bool{},
		},
		meets: &fakeMeetings{started: map[string]bool{}},
		logs:  &safeBuffer{},
		now:   time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
	}
	e.menu = &Menu{
		Prompts:   loadPrompts(t),
		Directory: e.dir,
		Meetings:  e.meets,
		Guard:     NewGuard(GuardOptions{Limit: 5, Window: 10 * time.Minute, Cooloff: 15 * time.Minute, Now: func() time.Time { return e.now }}),
		Config: config.IVR{
			FirstDigitTimeout: 150 * time.Millisecond,
			InterDigitTimeout: 150 * time.Millisecond,
			OrganizerWait:     150 * time.Millisecond,
			MaxAttempts:       3,
		},
	}
	return e
}

// run dials the menu with keys already queued and waits for it to end.
func (e *menuEnv) run(t *testing.T, keys string) *memCall {
	t.Helper()
	call := newMemCall(e.logs)
	for _, k := range []byte(keys) {
		call.digits <- k
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if entry, ok := e.menu.Identify(ctx, call); ok {
		e.meets.join(entry)
	}
	if ctx.Err() != nil {
		t.Fatal("the menu did not end")
	}
	return call
}

func (e *menuEnv) lastJoin(t *testing.T) Entry {
	t.Helper()
	e.meets.mu.Lock()
	defer e.meets.mu.Unlock()
	if len(e.meets.joins) == 0 {
		t.Fatal("nobody joined")
	}
	return e.meets.joins[len(e.meets.joins)-1]
}

func (e *menuEnv) joins() int {
	e.meets.mu.Lock()
	defer e.meets.mu.Unlock()
	return len(e.meets.joins)
}

func count(names []string, name string) int {
	n := 0
	for _, s := range names {
		if s == name {
			n++
		}
	}
	return n
}

func TestMenuAttendee(t *testing.T) {
	e := newMenuEnv(t)
	call := e.run(t, testID) // seven keys end the entry: no '#' needed
	j := e.lastJoin(t)
	if j.ConferenceID != testID || j.Organizer {
		t.Fatalf("joined %+v, want attendee of %s", j, testID)
	}
	if got := call.playedNames(); !slices.Contains(got, prompts.OrganizerPressStar) {
		t.Fatalf("organizer prompt not played: %v", got)
	}
}

func TestMenuOrganizer(t *testing.T) {
	e := newMenuEnv(t)
	e.run(t, testID+"*"+testPIN+"#")
	if j := e.lastJoin(t); !j.Organizer {
		t.Fatalf("joined %+v, want organizer", j)
	}
}

// The '#' the prompt asked for after seven digits belongs to the ID: it
// must not cut the organizer prompt short or count as a key there.
func TestMenuPoundAfterSevenDigits(t *testing.T) {
	e := newMenuEnv(t)
	e.run(t, testID+"#"+"*"+testPIN+"#")
	if j := e.lastJoin(t); !j.Organizer {
		t.Fatalf("joined %+v, want organizer", j)
	}
}

func TestMenuIDEndedByPound(t *testing.T) {
	e := newMenuEnv(t)
	e.dir.confs["12345"] = store.Conference{OrganizerID: 2}
	e.run(t, "12345#")
	if j := e.lastJoin(t); j.ConferenceID != "12345" {
		t.Fatalf("joined %+v", j)
	}
}

func TestMenuWrongIDThreeTimes(t *testing.T) {
	e := newMenuEnv(t)
	call := e.run(t, "1111111"+"2222222"+"333#")
	got := call.playedNames()
	if n := count(got, prompts.InvalidConferenceID); n != 2 {
		t.Fatalf("%d 'not found' prompts, want 2: %v", n, got)
	}
	if got[len(got)-1] != prompts.Goodbye {
		t.Fatalf("did not end with goodbye: %v", got)
	}
	if e.joins() != 0 {
		t.Fatal("someone joined")
	}
	logs := e.logs.String()
	if strings.Count(logs, "conference ID not found") != 3 || strings.Contains(logs, "1111111") {
		t.Fatalf("logs: %s", logs)
	}
}

func TestMenuWrongPINThreeTimes(t *testing.T) {
	e := newMenuEnv(t)
	call := e.run(t, testID+"*"+"11111#22222#33333#")
	if j := e.lastJoin(t); j.Organizer {
		t.Fatalf("joined as organizer after 3 wrong PINs")
	}
	got := call.playedNames()
	if count(got, prompts.WrongPIN) != 2 || !slices.Contains(got, prompts.JoinAsGuest) {
		t.Fatalf("played %v", got)
	}
	if e.dir.tries != 3 {
		t.Fatalf("%d PIN checks, want 3", e.dir.tries)
	}
	if strings.Contains(e.logs.String(), "11111") {
		t.Fatal("a PIN attempt is in the log")
	}
}

func TestMenuLockedPIN(t *testing.T) {
	e := newMenuEnv(t)
	e.dir.locked[testID] = true
	call := e.run(t, testID+"*"+testPIN+"#")
	if e.lastJoin(t).Organizer {
		t.Fatal("locked PIN made an organizer")
	}
	if got := call.playedNames(); !slices.Contains(got, prompts.PINLocked) {
		t.Fatalf("played %v", got)
	}
}

func TestMenuNoDigitsThenGoodbye(t *testing.T) {
	e := newMenuEnv(t)
	call := e.run(t, "")
	got := call.playedNames()
	if count(got, prompts.NoDigits) != 2 || got[len(got)-1] != prompts.Goodbye || e.joins() != 0 {
		t.Fatalf("played %v, joins %d", got, e.joins())
	}
}

func TestMenuNoPINPromptWhenNotNeeded(t *testing.T) {
	e := newMenuEnv(t)
	e.dir.confs[testID] = store.Conference{OrganizerID: 1, RequireOrganizer: false}
	call := e.run(t, testID)
	if slices.Contains(call.playedNames(), prompts.OrganizerPressStar) {
		t.Fatal("asked for the organizer though the meeting needs none")
	}
	e2 := newMenuEnv(t)
	e2.meets.started[testID] = true
	call = e2.run(t, testID)
	if slices.Contains(call.playedNames(), prompts.OrganizerPressStar) {
		t.Fatal("asked for the organizer of a meeting already on")
	}
}

func TestMenuHangupMidPIN(t *testing.T) {
	e := newMenuEnv(t)
	call := newMemCall(e.logs)
	for _, k := range []byte(testID + "*12") {
		call.digits <- k
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		if entry, ok := e.menu.Identify(ctx, call); ok {
			e.meets.join(entry)
		}
		close(done)
	}()
	time.Sleep(50 * time.Millisecond) // mid-PIN: waiting for the next key
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("menu still running after hang-up")
	}
	if e.joins() != 0 {
		t.Fatal("a caller who hung up joined")
	}
}

func TestGuardRefusesAndForgives(t *testing.T) {
	e := newMenuEnv(t)
	// Two calls of 3 wrong IDs: 6 failures from one number, limit 5.
	e.run(t, "1111111"+"1111111"+"1111111")
	e.run(t, "1111111"+"1111111"+"1111111")
	if !strings.Contains(e.logs.String(), `"caller_blocked":true`) {
		t.Fatalf("no block logged: %s", e.logs)
	}
	call := e.run(t, testID)
	if e.joins() != 0 || !slices.Contains(call.playedNames(), prompts.TryLater) {
		t.Fatalf("blocked caller got in: %v", call.playedNames())
	}
	e.now = e.now.Add(16 * time.Minute)
	e.run(t, testID)
	if e.joins() != 1 {
		t.Fatal("caller still refused after the cool-off")
	}
}
