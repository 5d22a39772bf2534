package center

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/client"
)

// The live pages' event streams (server-sent events): the handler reads
// the live state through the API in-process every livePoll and, when it
// changed, sends the page's live region rendered anew ("state"), which
// live.js puts in place. A stream ends when the browser goes, when the
// session ends ("signedout": the page goes to the sign-in form), when the
// meeting is deleted ("gone"), after the session's idle time and a minute
// (the browser reconnects by itself), or when the center closes.
//
// Opening a stream counts as using the session (withSession), reading it
// does not: a page left open ends its session after the idle time, as
// the stream outlives that time and is not reopened before.

const (
	livePoll      = 250 * time.Millisecond
	liveHeartbeat = 15 * time.Second // a comment, so a browser that went is found out
	// maxLiveStreams bounds the streams one session holds open (a few tabs).
	maxLiveStreams = 4
)

// liveStreams counts the open streams per session and ends them all at Close.
type liveStreams struct {
	mu     sync.Mutex
	open   map[*session]int
	closed chan struct{}
	once   sync.Once
}

func newLiveStreams() *liveStreams {
	return &liveStreams{open: map[*session]int{}, closed: make(chan struct{})}
}

// take counts one more stream of ses; false when it has too many.
func (s *liveStreams) take(ses *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[ses] >= maxLiveStreams {
		return false
	}
	s.open[ses]++
	return true
}

func (s *liveStreams) give(ses *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[ses]--; s.open[ses] <= 0 {
		delete(s.open, ses)
	}
}

// Close ends every live page's event stream, so that a server shutting
// down is not kept waiting for them; call it before http.Server.Shutdown.
func (c *Center) Close() {
	c.live.once.Do(func() { close(c.live.closed) })
}

// alive reports whether the session of r is still on, without counting
// the stream as use: an open page alone does not keep a session alive.
func (c *Center) alive(r *http.Request) bool {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	s := c.sessions
	s.mu.Lock()
	defer s.mu.Unlock()
	ses := s.byID[ck.Value]
	return ses != nil && !s.ended(ses, c.now())
}

// GET /admin/live/events?v=VERSION: the list's live region.
func (c *Center) liveListEvents(w http.ResponseWriter, r *http.Request, ses *session) {
	c.stream(w, r, ses, "live-list-region", func() (string, any, error) {
		views, err := c.liveViews(polled(r), ses)
		if err != nil {
			return "", nil, err
		}
		return versionOf(views), liveListData{pageData: pageData{CSRF: ses.csrf}, Meetings: views}, nil
	})
}

// GET /admin/live/{conference_id}/events?v=VERSION: the meeting's live region.
func (c *Center) liveMeetingEvents(w http.ResponseWriter, r *http.Request, ses *session) {
	c.stream(w, r, ses, "live-meeting-region", func() (string, any, error) {
		v, err := c.meetingView(polled(r), ses)
		if err != nil {
			return "", nil, err
		}
		return versionOf(v), liveMeetingData{pageData: pageData{CSRF: ses.csrf}, Meeting: v}, nil
	})
}

// polled is r for the stream's reads of the API, which log at debug level
// (admin.Polling): an open page reads four times a second.
func polled(r *http.Request) *http.Request {
	return r.WithContext(admin.Polling(r.Context()))
}

// stream serves one event stream of region: read says the state's
// version and the region's data. The version the page shows (?v=) is not
// sent again.
func (c *Center) stream(w http.ResponseWriter, r *http.Request, ses *session, region string, read func() (string, any, error)) {
	if !c.live.take(ses) {
		http.Error(w, "too many live pages open: close one", http.StatusTooManyRequests)
		return
	}
	defer c.live.give(ses)
	rc := http.NewResponseController(w)
	// The server's read timeout would end the stream; the browser sends
	// nothing more on it, and the heartbeat finds out when it goes.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold the events
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	send := func(event, data string) bool {
		buf.Reset()
		buf.WriteString("event: " + event + "\n")
		for _, line := range strings.Split(data, "\n") {
			buf.WriteString("data: " + line + "\n")
		}
		buf.WriteString("\n")
		return c.write(rc, w, buf.Bytes())
	}
	if !c.write(rc, w, []byte("retry: 1000\n\n")) {
		return
	}
	shown := r.URL.Query().Get("v")
	poll := time.NewTicker(livePoll)
	defer poll.Stop()
	beat := time.NewTicker(liveHeartbeat)
	defer beat.Stop()
	end := time.NewTimer(c.sessions.idle + time.Minute)
	defer end.Stop()
	var html bytes.Buffer
	failing := false // logged once until the reads work again
	for {
		if !c.alive(r) {
			send("signedout", "")
			return
		}
		version, data, err := read()
		var apiErr *client.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
			send("gone", apiErr.Message)
			return
		case err != nil:
			// The bridge or the directory failing: say nothing new, try again.
			if !failing {
				c.log.Warn().Err(err).Str("account", ses.account).Msg("admin center: live state unreadable")
			}
			failing = true
		case version != shown:
			html.Reset()
			if err := c.pages.ExecuteTemplate(&html, region, data); err != nil {
				c.log.Error().Err(err).Str("region", region).Msg("admin center: live region failed")
				return
			}
			if !send("state", html.String()) {
				return
			}
			shown, failing = version, false
		default:
			failing = false
		}
		select {
		case <-r.Context().Done():
			return
		case <-c.live.closed:
			return
		case <-end.C:
			return
		case <-beat.C:
			if !c.write(rc, w, []byte(": still here\n\n")) {
				return
			}
		case <-poll.C:
		}
	}
}

// write sends p at once; false when the browser has gone.
func (c *Center) write(rc *http.ResponseController, w http.ResponseWriter, p []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := w.Write(p); err != nil {
		return false
	}
	return rc.Flush() == nil
}
