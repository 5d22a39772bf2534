package center

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

// fakeBridge is the bridge as the API sees it (admin.LiveMeetings): its
// meetings' live status in a map, changed by the controls as the bridge
// changes them.
type fakeBridge struct {
	mu       sync.Mutex
	meetings map[string]bridge.Status
}

func (f *fakeBridge) set(id string, st bridge.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.meetings[id] = st
}

func (f *fakeBridge) Status(id string) (bridge.Status, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.meetings[id]
	st.Participants, st.Lobby = slices.Clone(st.Participants), slices.Clone(st.Lobby)
	return st, ok
}

func (f *fakeBridge) LiveIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.meetings {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// started is the meeting id, which must be on, for a control to change.
func (f *fakeBridge) started(id string) (bridge.Status, error) {
	st, ok := f.meetings[id]
	if !ok || !st.Started {
		return st, bridge.ErrNotStarted
	}
	st.Participants, st.Lobby = slices.Clone(st.Participants), slices.Clone(st.Lobby)
	return st, nil
}

func (f *fakeBridge) Start(id string, _ store.Conference) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.meetings[id]
	st.Started = true
	f.meetings[id] = st
}

func (f *fakeBridge) End(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.started(id); err != nil {
		return err
	}
	delete(f.meetings, id)
	return nil
}

func (f *fakeBridge) Admit(id, callerID string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := f.started(id)
	if err != nil {
		return 0, err
	}
	n := 0
	st.Lobby = slices.DeleteFunc(st.Lobby, func(c bridge.LobbyStatus) bool {
		if callerID != "" && c.ID != callerID {
			return false
		}
		st.Participants = append(st.Participants, bridge.ParticipantStatus{ID: c.ID, Caller: c.Caller, JoinedAt: time.Now()})
		n++
		return true
	})
	if callerID != "" && n == 0 {
		return 0, bridge.ErrNoSuchCaller
	}
	f.meetings[id] = st
	return n, nil
}

func (f *fakeBridge) SetMuted(id, participantID string, muted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := f.started(id)
	if err != nil {
		return err
	}
	for i := range st.Participants {
		if st.Participants[i].ID == participantID {
			st.Participants[i].Muted = muted
			f.meetings[id] = st
			return nil
		}
	}
	return bridge.ErrNoSuchCaller
}

func (f *fakeBridge) SetLocked(id string, locked bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := f.started(id)
	if err != nil {
		return err
	}
	st.Locked = locked
	f.meetings[id] = st
	return nil
}

func (f *fakeBridge) Remove(id, callerID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.meetings[id]
	if !ok {
		return bridge.ErrNoSuchCaller
	}
	n := len(st.Participants) + len(st.Lobby)
	st.Participants = slices.DeleteFunc(slices.Clone(st.Participants), func(p bridge.ParticipantStatus) bool { return p.ID == callerID })
	st.Lobby = slices.DeleteFunc(slices.Clone(st.Lobby), func(c bridge.LobbyStatus) bool { return c.ID == callerID })
	if len(st.Participants)+len(st.Lobby) == n {
		return bridge.ErrNoSuchCaller
	}
	f.meetings[id] = st
	return nil
}

// liveEnv is the center's env with the API on a fake bridge, one user
// (ada) whose static conference ID is id, and alice signed in.
type liveEnv struct {
	*env
	bridge *fakeBridge
	id     string
	center *Center
	log    *lockedWriter // the API's and the center's
}

func newLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dialin.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.Open(ctx, store.Options{Backend: db, Secret: bytes.Repeat([]byte{7}, 32),
		PasswordParams: store.PasswordParams{Time: 1, Memory: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	_, password, err := dir.AddAdmin(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeBridge{meetings: map[string]bridge.Status{}}
	logs := &lockedWriter{}
	api, err := admin.NewHandler(admin.Options{Directory: dir, Token: "test-admin-token", Live: fb, Logger: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	no := false
	ch, err := client.InProcess(api).EnableUser(admin.AsAccount(ctx, "setup", "127.0.0.1:1"),
		client.EnableRequest{Email: "ada@example.com", SendEmail: &no})
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Now()} // the live state is dated by the wall clock
	c, err := New(Options{Accounts: dir, API: api, Logger: zerolog.New(logs), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	e := &liveEnv{env: &env{t: t, srv: srv, client: newBrowser(t), clock: clock, password: password, logs: &bytes.Buffer{}, dir: dir},
		bridge: fb, id: ch.User.ConferenceID, center: c, log: logs}
	if p := e.signIn(e.client, "alice", password); p.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", p.status)
	}
	return e
}

// lockedWriter is a log the event streams and the pages write at once.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// waiting is a meeting not started with one caller in its lobby.
func waiting(since time.Time) bridge.Status {
	return bridge.Status{Lobby: []bridge.LobbyStatus{{ID: "c1", Caller: "+14255550100", WaitingSince: since}}}
}

// control posts a live control of the meeting with the page's CSRF token
// and returns the page it redirects to.
func (e *liveEnv) control(action string, form url.Values) page {
	e.t.Helper()
	pg := e.get(e.client, "/admin/live/"+e.id)
	form.Set("csrf", csrfOf(e.t, pg))
	p := e.post(e.client, "/admin/live/"+e.id+"/"+action, form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/live/"+e.id {
		e.t.Fatalf("%s: %d %s\n%s", action, p.status, p.header.Get("Location"), p.body)
	}
	return e.get(e.client, "/admin/live/"+e.id)
}

// audit is the newest audit entry of action.
func (e *liveEnv) audit(action string) store.AuditEntry {
	e.t.Helper()
	list, err := e.dir.Audit(context.Background(), store.AuditFilter{Action: action, Limit: 1})
	if err != nil || len(list) == 0 {
		e.t.Fatalf("no audit entry %s: %v", action, err)
	}
	return list[0]
}

// TestLivePagesAndControls: the list and the meeting page show the
// bridge's state (numbers masked); each control is a form that posts,
// acts through the API as the account (audited as account:alice) and
// redirects back with a notice; a refusal is the notice.
func TestLivePagesAndControls(t *testing.T) {
	e := newLiveEnv(t)
	list := e.get(e.client, "/admin/live")
	if list.status != 200 || !strings.Contains(list.body, "No meeting is in progress") {
		t.Fatalf("empty list: %d\n%s", list.status, list.body)
	}
	e.bridge.set(e.id, waiting(e.clock.Now().Add(-65*time.Second)))
	list = e.get(e.client, "/admin/live")
	for _, want := range []string{`href="/admin/live/` + e.id + `"`, "ada@example.com", "Waiting for the organizer", `aria-live="polite"`, `src="/admin/static/live.js"`} {
		if !strings.Contains(list.body, want) {
			t.Errorf("list: no %q\n%s", want, list.body)
		}
	}

	pg := e.get(e.client, "/admin/live/"+e.id)
	for _, want := range []string{"*******0100", "Waiting for the organizer", "1 min 05 s", "Start meeting", "Remove", `aria-live="polite"`,
		`data-events="/admin/live/` + e.id + `/events?v=`} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("meeting page: no %q\n%s", want, pg.body)
		}
	}
	if strings.Contains(pg.body, "4255550100") || strings.Contains(pg.body, `id="admit-c1"`) {
		t.Errorf("meeting page shows the number unmasked, or Admit before the start:\n%s", pg.body)
	}

	// Admit before the start: the API's refusal is the notice.
	pg = e.control("admit", url.Values{"caller": {"c1"}})
	if !strings.Contains(pg.body, "Not done: meeting "+e.id+" has not started.") {
		t.Errorf("admit before the start:\n%s", pg.body)
	}
	pg = e.control("start", url.Values{})
	if !strings.Contains(pg.body, "Meeting started.") || !strings.Contains(pg.body, `id="admit-c1"`) || !strings.Contains(pg.body, "Lock meeting") {
		t.Errorf("after start:\n%s", pg.body)
	}
	pg = e.control("admit", url.Values{"caller": {"c1"}})
	if !strings.Contains(pg.body, "Caller admitted") || !strings.Contains(pg.body, `data-participant="c1"`) || strings.Contains(pg.body, `data-caller="c1"`) {
		t.Errorf("after admit:\n%s", pg.body)
	}
	pg = e.control("mute", url.Values{"participant": {"c1"}, "muted": {"true"}})
	if !strings.Contains(pg.body, "Participant muted.") || !strings.Contains(pg.body, `<span class="badge warn">Muted</span>`) || !strings.Contains(pg.body, ">Unmute<") {
		t.Errorf("after mute:\n%s", pg.body)
	}
	pg = e.control("lock", url.Values{"locked": {"true"}})
	if !strings.Contains(pg.body, "Meeting locked") || !strings.Contains(pg.body, "Unlock meeting") {
		t.Errorf("after lock:\n%s", pg.body)
	}
	if st, _ := e.bridge.Status(e.id); !st.Locked || !st.Participants[0].Muted {
		t.Errorf("the bridge after lock and mute: %+v", st)
	}
	st, _ := e.bridge.Status(e.id)
	st.Lobby = []bridge.LobbyStatus{{ID: "c2", Caller: "+14255550102", WaitingSince: time.Now()}, {ID: "c3", Caller: "+14255550103", WaitingSince: time.Now()}}
	e.bridge.set(e.id, st)
	pg = e.control("admit", url.Values{"all": {"1"}})
	if !strings.Contains(pg.body, "2 caller(s) admitted") || !strings.Contains(pg.body, "Nobody is waiting in the lobby.") {
		t.Errorf("after admit all:\n%s", pg.body)
	}
	pg = e.control("remove", url.Values{"caller": {"c2"}})
	if !strings.Contains(pg.body, "Caller removed") || strings.Contains(pg.body, `data-participant="c2"`) {
		t.Errorf("after remove:\n%s", pg.body)
	}
	pg = e.control("remove", url.Values{"caller": {"c2"}})
	if !strings.Contains(pg.body, "Not done: no participant or lobby caller c2 in meeting "+e.id+".") {
		t.Errorf("removing the removed:\n%s", pg.body)
	}

	// End: a confirmation first, then everyone is hung up.
	confirm := e.get(e.client, "/admin/live/"+e.id+"/end")
	if confirm.status != 200 || !strings.Contains(confirm.body, "End meeting for everyone") || !strings.Contains(confirm.body, "Everyone in the meeting (2)") {
		t.Fatalf("confirmation: %d\n%s", confirm.status, confirm.body)
	}
	p := e.post(e.client, "/admin/live/"+e.id+"/end", url.Values{"csrf": {csrfOf(t, confirm)}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("end: %d\n%s", p.status, p.body)
	}
	if _, ok := e.bridge.Status(e.id); ok {
		t.Error("the meeting is still on after end")
	}
	if pg := e.get(e.client, "/admin/live/"+e.id); !strings.Contains(pg.body, "Meeting ended") || !strings.Contains(pg.body, "Not in progress") {
		t.Errorf("after end:\n%s", pg.body)
	}

	// Each change is audited as the account.
	for _, action := range []string{"meeting.start", "meeting.admit", "meeting.mute", "meeting.lock", "meeting.remove", "meeting.end"} {
		if a := e.audit(action); a.Credential != "account:alice" || !strings.Contains(a.Target, "meeting "+e.id) {
			t.Errorf("%s audited as %q, target %q", action, a.Credential, a.Target)
		}
	}
	if a := e.audit("meeting.lock"); a.Detail != "lock: no new callers but the organizer" || a.Outcome != store.AuditOK {
		t.Errorf("lock audit: %+v", a)
	}

	// A meeting that does not exist: the error page, 404.
	if p := e.get(e.client, "/admin/live/1234566"); p.status != http.StatusNotFound {
		t.Errorf("unknown meeting: %d", p.status)
	}
}

// TestLiveFormsNeedCSRF: a control without the session's token, or
// without a session, changes nothing.
func TestLiveFormsNeedCSRF(t *testing.T) {
	e := newLiveEnv(t)
	e.bridge.set(e.id, bridge.Status{Started: true, Participants: []bridge.ParticipantStatus{{ID: "c1", Caller: "+14255550100"}}})
	before, _ := e.bridge.Status(e.id)
	for action, form := range map[string]url.Values{
		"admit":  {"all": {"1"}},
		"remove": {"caller": {"c1"}},
		"mute":   {"participant": {"c1"}, "muted": {"true"}},
		"lock":   {"locked": {"true"}},
		"start":  {},
		"end":    {},
	} {
		form.Set("csrf", "forged")
		if p := e.post(e.client, "/admin/live/"+e.id+"/"+action, form); p.status != http.StatusForbidden {
			t.Errorf("%s with a forged token: %d", action, p.status)
		}
		if p := e.post(newBrowser(t), "/admin/live/"+e.id+"/"+action, form); p.status != http.StatusForbidden {
			t.Errorf("%s without a session: %d", action, p.status)
		}
	}
	if after, _ := e.bridge.Status(e.id); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused forms changed the meeting: %+v -> %+v", before, after)
	}
	if list, err := e.dir.Audit(context.Background(), store.AuditFilter{}); err != nil || len(list) != 1 { // the setup's enable
		t.Errorf("refused forms were audited: %+v %v", list, err)
	}
	// A form with a bad value is refused before the API.
	pg := e.get(e.client, "/admin/live/"+e.id)
	if p := e.post(e.client, "/admin/live/"+e.id+"/mute", url.Values{"csrf": {csrfOf(t, pg)}, "participant": {"c1"}, "muted": {"maybe"}}); p.status != http.StatusBadRequest {
		t.Errorf("mute maybe: %d", p.status)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// openStream opens a live page's event stream with the browser's cookies
// and delivers its events until the test ends.
func (e *liveEnv) openStream(c *http.Client, path string) (*http.Response, <-chan sseEvent) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	streaming := *c
	streaming.Timeout = 0
	resp, err := streaming.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	events := make(chan sseEvent, 16)
	go func() {
		defer resp.Body.Close()
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ev.data = strings.Join(data, "\n")
					events <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return resp, events
}

func next(t *testing.T, events <-chan sseEvent, within time.Duration) (sseEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-events:
		return ev, ok
	case <-time.After(within):
		return sseEvent{}, false
	}
}

// TestLiveEvents: the meeting's stream sends the region when the state
// changes (not the state the page shows already), ends with "signedout"
// when the session ends, is refused without a session, and is bounded per
// session.
func TestLiveEvents(t *testing.T) {
	e := newLiveEnv(t)
	e.bridge.set(e.id, waiting(time.Now()))
	pg := e.get(e.client, "/admin/live/"+e.id)
	m := eventsRE.FindStringSubmatch(pg.body)
	if m == nil {
		t.Fatalf("no event stream on the page:\n%s", pg.body)
	}
	resp, events := e.openStream(e.client, m[1])
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("stream: %d %q", resp.StatusCode, ct)
	}
	if ev, ok := next(t, events, 600*time.Millisecond); ok {
		t.Fatalf("the stream sent the state the page shows: %+v", ev)
	}
	st, _ := e.bridge.Status(e.id)
	st.Lobby = append(st.Lobby, bridge.LobbyStatus{ID: "c2", Caller: "+14255550177", WaitingSince: time.Now()})
	e.bridge.set(e.id, st)
	ev, ok := next(t, events, time.Second)
	if !ok || ev.name != "state" || !strings.Contains(ev.data, "*******0177") || !strings.Contains(ev.data, `data-caller="c2"`) ||
		strings.Contains(ev.data, "<html") || !strings.Contains(ev.data, `name="csrf"`) {
		t.Fatalf("after a caller arrived: %v %+v", ok, ev)
	}
	if ev, ok := next(t, events, 600*time.Millisecond); ok {
		t.Fatalf("the stream sent an unchanged state: %+v", ev)
	}
	// The stream's reads are the API's debug lines, not its info lines.
	e.log.mu.Lock()
	lines := strings.Split(e.log.buf.String(), "\n")
	e.log.mu.Unlock()
	debug, info := 0, 0
	for _, l := range lines {
		if strings.Contains(l, `"path":"/api/v1/meetings/`+e.id+`"`) {
			switch {
			case strings.Contains(l, `"level":"debug"`):
				debug++
			case strings.Contains(l, `"level":"info"`):
				info++
			}
		}
	}
	if debug < 4 || info != 1 { // the page's own read is info
		t.Errorf("the API logged the meeting's reads %d times at debug, %d at info; want the stream's at debug", debug, info)
	}

	// The list's stream, and the bound: four streams per session.
	_, listEvents := e.openStream(e.client, "/admin/live/events")
	if ev, ok := next(t, listEvents, time.Second); !ok || ev.name != "state" || !strings.Contains(ev.data, `href="/admin/live/`+e.id+`"`) {
		t.Fatalf("the list's stream: %v %+v", ok, ev)
	}
	e.openStream(e.client, m[1])
	e.openStream(e.client, m[1])
	if resp, _ := e.openStream(e.client, m[1]); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a fifth stream: %d", resp.StatusCode)
	}
	if resp, _ := e.openStream(newBrowser(t), m[1]); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a stream without a session: %d", resp.StatusCode)
	}

	// The session ends: the stream says so and closes.
	e.clock.Add(31 * time.Minute)
	ev, ok = next(t, events, 2*time.Second)
	if !ok || ev.name != "signedout" {
		t.Fatalf("after the session ended: %v %+v", ok, ev)
	}
	if _, ok := next(t, events, 2*time.Second); ok {
		t.Error("the stream goes on after signedout")
	}
}

// TestLiveEventsEndAtClose: Close ends the streams, so a shutdown is not
// held by an open page.
func TestLiveEventsEndAtClose(t *testing.T) {
	e := newLiveEnv(t)
	_, events := e.openStream(e.client, "/admin/live/"+e.id+"/events")
	if ev, ok := next(t, events, time.Second); !ok || ev.name != "state" {
		t.Fatalf("first state: %v %+v", ok, ev)
	}
	e.center.Close()
	deadline := time.After(2 * time.Second)
	for closed := false; !closed; {
		select {
		case ev, ok := <-events:
			if ok && ev.name != "state" {
				t.Fatalf("event %+v after Close", ev)
			}
			closed = !ok
		case <-deadline:
			t.Fatal("the stream is still open after Close")
		}
	}
	for i := 0; ; i++ {
		e.center.live.mu.Lock()
		n := len(e.center.live.open)
		e.center.live.mu.Unlock()
		if n == 0 {
			break
		}
		if i == 100 {
			t.Fatalf("%d stream(s) still counted after Close", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var eventsRE = regexp.MustCompile(`data-events="([^"]+)"`)
