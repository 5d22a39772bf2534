package cli

// Helpers for the tests of the commands: they run the command line in
// this process, as dialin would, against the real API handler when a
// server is needed (end-to-end tests against dialin serve are in
// cmd/dialin).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

// testAdminToken is the admin token of the in-process API servers.
const testAdminToken = "cli-test-token-0123456789abcdef"

// cliResult is what one run of `dialin ...` did.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// noEnv is an empty environment: a developer's shell must not change the
// result.
func noEnv(string) string { return "" }

// noServe is the serve of the tests that must not start one.
func noServe(config.Config, io.Writer, io.Writer) error {
	return errors.New("serve called")
}

// run runs `dialin args...` in this process, with an empty environment.
func run(args ...string) cliResult {
	var stdout, stderr strings.Builder
	code := New(noServe).Run(args, &stdout, &stderr, noEnv)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// checkFailure checks a failed run: the exit code, nothing on stdout, and
// for code 1 exactly one line "dialin: ..." on stderr.
func checkFailure(t *testing.T, r cliResult, code int, args []string) {
	t.Helper()
	cmd := "dialin " + strings.Join(args, " ")
	if r.Code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmd, r.Code, code, r.Stdout, r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("%s: stdout not empty on failure:\n%s", cmd, r.Stdout)
	}
	if !strings.HasPrefix(r.Stderr, "dialin: ") {
		t.Errorf("%s: stderr does not start with \"dialin: \":\n%s", cmd, r.Stderr)
	}
	if code == 1 && strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("%s: stderr is not one line:\n%s", cmd, r.Stderr)
	}
}

// outLine reports whether out has an aligned "  key  value" line with
// exactly that value.
func outLine(out, key, value string) bool {
	re := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(key) + `\s{2,}` + regexp.QuoteMeta(value) + `\s*$`)
	return re.MatchString(out)
}

func jsonInto(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// newConferenceID returns a random valid conference ID (Damm check digit).
func newConferenceID(t *testing.T) string {
	t.Helper()
	six := fmt.Sprintf("%06d", rand.IntN(1000000))
	for d := '0'; d <= '9'; d++ {
		if id := six + string(d); store.ValidConferenceID(id) {
			return id
		}
	}
	t.Fatalf("no check digit makes %s valid", six)
	return ""
}

// tableRow returns the fields of the line of a table whose first field is
// first, and where the line starts, failing the test if there is none.
func tableRow(t *testing.T, out, first string) (fields []string, line string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == first {
			return f, l
		}
	}
	t.Fatalf("no row %q in:\n%s", first, out)
	return nil, ""
}

// tableRow2 is tableRow's fields only.
func tableRow2(t *testing.T, out, first string) []string {
	t.Helper()
	f, _ := tableRow(t, out, first)
	return f
}

// cliLive is an admin.LiveMeetings for the in-process tests of the meeting
// commands: meetings in a map, changed as the bridge would change them,
// and the control calls recorded ("mute 1234567 p1 true").
type cliLive struct {
	mu       sync.Mutex
	meetings map[string]bridge.Status
	calls    []string
}

func (f *cliLive) Status(id string) (bridge.Status, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.meetings[id]
	return l, ok
}

// set gives a meeting the live state l, written as the API shows it
// (roles by name), as the bridge would report it.
func (f *cliLive) set(id string, l wire.Live) {
	st := bridge.Status{Started: l.Started, OrganizerPresent: l.OrganizerPresent}
	for _, p := range l.Participants {
		st.Participants = append(st.Participants, bridge.ParticipantStatus{ID: p.ID, Caller: p.Caller,
			Organizer: p.Role == "organizer", Muted: p.Muted, HandRaised: p.HandRaised, Talking: p.Talking, JoinedAt: p.JoinedAt})
	}
	for _, c := range l.Lobby {
		st.Lobby = append(st.Lobby, bridge.LobbyStatus{ID: c.ID, Caller: c.Caller, WaitingSince: c.WaitingSince})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.meetings[id] = st
}

func (f *cliLive) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// started records a call and returns a copy of the meeting, which must be on.
func (f *cliLive) started(call ...string) (bridge.Status, error) {
	f.calls = append(f.calls, strings.Join(call, " "))
	l, ok := f.meetings[call[1]]
	if !ok || !l.Started {
		return l, bridge.ErrNotStarted
	}
	l.Participants = slices.Clone(l.Participants)
	l.Lobby = slices.Clone(l.Lobby)
	return l, nil
}

func (f *cliLive) Start(id string, _ store.Conference) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "start "+id)
	l := f.meetings[id]
	l.Started = true
	f.meetings[id] = l
}

func (f *cliLive) End(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.started("end", id); err != nil {
		return err
	}
	delete(f.meetings, id)
	return nil
}

func (f *cliLive) Admit(id, callerID string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.started("admit", id, callerID)
	if err != nil {
		return 0, err
	}
	var stay []bridge.LobbyStatus
	for _, c := range l.Lobby {
		if callerID == "" || c.ID == callerID {
			l.Participants = append(l.Participants, bridge.ParticipantStatus{ID: c.ID, Caller: c.Caller, JoinedAt: time.Now()})
		} else {
			stay = append(stay, c)
		}
	}
	n := len(l.Lobby) - len(stay)
	if callerID != "" && n == 0 {
		return 0, fmt.Errorf("lobby: %w", bridge.ErrNoSuchCaller)
	}
	l.Lobby = stay
	f.meetings[id] = l
	return n, nil
}

func (f *cliLive) SetMuted(id, participantID string, muted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.started("mute", id, participantID, strconv.FormatBool(muted))
	if err != nil {
		return err
	}
	for i := range l.Participants {
		if l.Participants[i].ID == participantID {
			l.Participants[i].Muted = muted
			f.meetings[id] = l
			return nil
		}
	}
	return bridge.ErrNoSuchCaller
}

func (f *cliLive) Remove(id, callerID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.started("remove", id, callerID)
	if err != nil {
		return err
	}
	n := len(l.Participants) + len(l.Lobby)
	l.Participants = slices.DeleteFunc(l.Participants, func(p bridge.ParticipantStatus) bool { return p.ID == callerID })
	l.Lobby = slices.DeleteFunc(l.Lobby, func(c bridge.LobbyStatus) bool { return c.ID == callerID })
	if len(l.Participants)+len(l.Lobby) == n {
		return bridge.ErrNoSuchCaller
	}
	f.meetings[id] = l
	return nil
}

// inProcessAPI serves the real admin API handler, with live as its bridge
// (nil: none), on a directory of its own.
func inProcessAPI(t *testing.T, live admin.LiveMeetings) (url string, dir *store.Directory) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dialin.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err = store.Open(ctx, store.Options{Backend: db, Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	h, err := admin.NewHandler(admin.Options{Directory: dir, Token: testAdminToken, Live: live, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, dir
}

// inProcessCLI runs `dialin args... --server url --token TOKEN` in this
// process, with an empty environment.
func inProcessCLI(url string, args ...string) cliResult {
	var stdout, stderr strings.Builder
	code := New(noServe).Run(append(args, "--server", url, "--token", testAdminToken), &stdout, &stderr, noEnv)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

func (f *cliLive) SetLocked(id string, locked bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.started("lock", id, strconv.FormatBool(locked))
	if err != nil {
		return err
	}
	l.Locked = locked
	f.meetings[id] = l
	return nil
}

func (f *cliLive) LiveIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.meetings))
	for id := range f.meetings {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
