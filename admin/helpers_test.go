package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

// *store.Directory is the Directory the server wires in.
var _ Directory = (*store.Directory)(nil)

const testToken = "test-token-0123456789abcdef"

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeLive is a LiveMeetings that keeps meetings in a map and records the
// calls of the control methods ("admit 1234567 l1"). It acts as the bridge
// would on its own state: Start starts a meeting, End forgets it, Admit
// moves lobby callers into the participants, SetMuted and Remove find the
// id or answer bridge.ErrNoSuchCaller; all but Start answer
// bridge.ErrNotStarted for a
// meeting that is not on. err, when set, is what every control call returns.
type fakeLive struct {
	mu       sync.Mutex
	meetings map[string]bridge.Status
	calls    []string
	err      error
	started  []store.Conference // what each Start was given
}

func (f *fakeLive) Status(id string) (bridge.Status, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.meetings[id]
	return l, ok
}

// set gives a meeting the live state l, written as the API shows it
// (roles by name), as the bridge would report it.
func (f *fakeLive) set(id string, l wire.Live) {
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
	if f.meetings == nil {
		f.meetings = map[string]bridge.Status{}
	}
	f.meetings[id] = st
}

// failWith makes every control call fail with err (nil: work again).
func (f *fakeLive) failWith(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// takeCalls returns the calls recorded since the last takeCalls.
func (f *fakeLive) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// call records a control call and returns the started meeting it is about.
func (f *fakeLive) call(what, id string, args ...string) (bridge.Status, error) {
	f.calls = append(f.calls, strings.Join(append([]string{what, id}, args...), " "))
	if f.err != nil {
		return bridge.Status{}, f.err
	}
	l, ok := f.meetings[id]
	if !ok || !l.Started {
		return l, fmt.Errorf("fake bridge: meeting %s: %w", id, bridge.ErrNotStarted)
	}
	return l, nil
}

// Start starts the meeting; it records the admission rule it was given.
func (f *fakeLive) Start(id string, conf store.Conference) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.call("start", id)
	if errors.Is(err, bridge.ErrNotStarted) {
		l.Started = true
		if f.meetings == nil {
			f.meetings = map[string]bridge.Status{}
		}
		f.meetings[id] = l
	}
	f.started = append(f.started, conf)
}

func (f *fakeLive) End(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.call("end", id); err != nil {
		return err
	}
	delete(f.meetings, id)
	return nil
}

func (f *fakeLive) Admit(id, callerID string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.call("admit", id, callerID)
	if err != nil {
		return 0, err
	}
	l.Participants = slices.Clone(l.Participants)
	var stay []bridge.LobbyStatus
	n := 0
	for _, c := range l.Lobby {
		if callerID == "" || c.ID == callerID {
			l.Participants = append(l.Participants, bridge.ParticipantStatus{ID: c.ID, Caller: c.Caller, JoinedAt: time.Now()})
			n++
		} else {
			stay = append(stay, c)
		}
	}
	if callerID != "" && n == 0 {
		return 0, fmt.Errorf("fake bridge: %s: %w", callerID, bridge.ErrNoSuchCaller)
	}
	l.Lobby = stay
	f.meetings[id] = l
	return n, nil
}

func (f *fakeLive) SetMuted(id, participantID string, muted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.call("mute", id, participantID, fmt.Sprint(muted))
	if err != nil {
		return err
	}
	l.Participants = slices.Clone(l.Participants) // Status's answers stay as they were
	for i := range l.Participants {
		if l.Participants[i].ID == participantID {
			l.Participants[i].Muted = muted
			f.meetings[id] = l
			return nil
		}
	}
	return bridge.ErrNoSuchCaller
}

func (f *fakeLive) Remove(id, callerID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.call("remove", id, callerID)
	if err != nil {
		return err
	}
	for i, p := range l.Participants {
		if p.ID == callerID {
			l.Participants = slices.Delete(slices.Clone(l.Participants), i, i+1)
			f.meetings[id] = l
			return nil
		}
	}
	for i, c := range l.Lobby {
		if c.ID == callerID {
			l.Lobby = slices.Delete(slices.Clone(l.Lobby), i, i+1)
			f.meetings[id] = l
			return nil
		}
	}
	return bridge.ErrNoSuchCaller
}

// env is an API served over HTTP on a real SQLite directory.
type env struct {
	t      *testing.T
	dir    *store.Directory
	srv    *httptest.Server
	live   *fakeLive
	logs   *syncBuffer
	client *http.Client
}

// openDirectory opens a directory on a real SQLite file at path (closed
// when the test ends), with cheap password hashes.
func openDirectory(t testing.TB, path string) *store.Directory {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.Open(ctx, store.Options{Backend: db, Secret: bytes.Repeat([]byte{7}, 32),
		PasswordParams: store.PasswordParams{Time: 1, Memory: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	return dir
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := openDirectory(t, filepath.Join(t.TempDir(), "dialin.db"))
	e := &env{t: t, dir: dir, live: &fakeLive{}, logs: &syncBuffer{}}
	h, err := NewHandler(Options{Directory: dir, Token: testToken, Live: e.live, Logger: zerolog.New(e.logs)})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.client = &http.Client{Timeout: 10 * time.Second}
	return e
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value for assertions.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response %d is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return v
}

// decode decodes the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d: %v\n%s", r.status, err, r.body)
	}
}

// send makes a request with the test token and a JSON body (empty: none).
func (e *env) send(method, path, body string) response {
	e.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + testToken}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	return e.raw(method, path, body, h)
}

// raw makes a request with exactly the headers given.
func (e *env) raw(method, path, body string, h http.Header) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header = h
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// must makes a request and fails the test unless the status is want.
func (e *env) must(want int, method, path, body string) response {
	e.t.Helper()
	r := e.send(method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, want, r.body)
	}
	return r
}

// apiErr is the decoded error body.
type apiErr struct {
	Code, Message, Field, Rule string
}

// fail makes a request that must fail with status and code; it returns
// the error.
func (e *env) fail(status int, code, method, path, body string) apiErr {
	e.t.Helper()
	r := e.send(method, path, body)
	return e.checkErr(r, status, code, method+" "+path)
}

func (e *env) checkErr(r response, status int, code, what string) apiErr {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("%s: status %d, want %d\n%s", what, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("%s: Content-Type %q", what, ct)
	}
	var b struct{ Error *apiErr }
	r.decode(e.t, &b)
	if b.Error == nil || b.Error.Code != code || b.Error.Message == "" {
		e.t.Fatalf("%s: error %+v, want code %s\n%s", what, b.Error, code, r.body)
	}
	return *b.Error
}

// changeResp is a decoded change.
type changeResp struct {
	User        userResp `json:"user"`
	PIN         *string  `json:"pin"`
	EmailQueued bool     `json:"email_queued"`
}

type userResp struct {
	ID           int64  `json:"id"`
	Email        string `json:"email"`
	DisplayName  string `json:"display_name"`
	ConferenceID string `json:"conference_id"`
	PIN          string `json:"pin"`
	PINLength    int    `json:"pin_length"`
	Locked       bool   `json:"locked"`
	Lock         struct {
		LockedByAdmin bool `json:"locked_by_admin"`
	} `json:"lock"`
}

// enable enables email and returns the change.
func (e *env) enable(email string) changeResp {
	e.t.Helper()
	var c changeResp
	e.must(201, "POST", "/api/v1/users", `{"email":"`+email+`","display_name":"Test"}`).decode(e.t, &c)
	return c
}

// state is everything a request could change, to show a rejected one
// changed nothing: the users, the settings, the meetings and the outbox.
func (e *env) state() string {
	e.t.Helper()
	users := e.must(200, "GET", "/api/v1/users?limit=1000", "").body
	settings := e.must(200, "GET", "/api/v1/settings", "").body
	meetings := e.must(200, "GET", "/api/v1/meetings?limit=1000", "").body
	n, err := e.dir.PendingMail(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return string(users) + string(settings) + string(meetings) + strings.Repeat("+", n)
}

// wrongCheckDigit returns id with a wrong last digit, and the right one.
func wrongCheckDigit(t *testing.T, body string) (wrong string, right byte) {
	t.Helper()
	for d := byte('0'); d <= '9'; d++ {
		if store.ValidConferenceID(body + string(d)) {
			right = d
		}
	}
	return body + string('0'+(right-'0'+1)%10), right
}

// validID appends the right check digit to a 6-digit body.
func validID(t *testing.T, body string) string {
	t.Helper()
	_, right := wrongCheckDigit(t, body)
	return body + string(right)
}

func (f *fakeLive) SetLocked(id string, locked bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.call("lock", id, fmt.Sprint(locked))
	if err != nil {
		return err
	}
	l.Locked = locked
	f.meetings[id] = l
	return nil
}

func (f *fakeLive) LiveIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.meetings))
	for id := range f.meetings {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
