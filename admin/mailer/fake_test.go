package mailer

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// fakeOutbox is an in-memory Outbox.
type fakeOutbox struct {
	mu       sync.Mutex
	nextID   int64
	mails    map[int64]*store.OutboxMail
	sent     []int64
	failures []failure
	gaveUp   map[int64]string // failed for good, with the reason
	dropped  map[int64]string
	prunes   []time.Duration
	dueCalls int
	wake     chan struct{}
}

type failure struct {
	id     int64
	next   time.Time
	reason string
}

func newFakeOutbox() *fakeOutbox {
	return &fakeOutbox{mails: map[int64]*store.OutboxMail{}, gaveUp: map[int64]string{}, dropped: map[int64]string{},
		wake: make(chan struct{}, 1)}
}

// queue adds an email, due now, and wakes the mailer as the store does.
func (f *fakeOutbox) queue(c store.MailContent) int64 {
	return f.queueMail(store.OutboxMail{MailContent: c, CreatedAt: time.Now()})
}

// queueMail adds om (its ID set here), due now.
func (f *fakeOutbox) queueMail(om store.OutboxMail) int64 {
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	om.ID = id
	f.mails[id] = &om
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return id
}

func (f *fakeOutbox) DueMail(ctx context.Context, limit int) ([]store.OutboxMail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dueCalls++
	now := time.Now()
	var due []store.OutboxMail
	for _, m := range f.mails {
		if !m.NextAttempt.After(now) {
			c := *m
			c.DialInNumbers = append([]string(nil), m.DialInNumbers...)
			due = append(due, c)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].ID < due[j].ID })
	if len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

func (f *fakeOutbox) MailSent(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.mails, id)
	f.sent = append(f.sent, id)
	return nil
}

func (f *fakeOutbox) MailFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.mails[id]; ok {
		m.Attempts++
		m.NextAttempt = next
		m.LastError = reason
	}
	f.failures = append(f.failures, failure{id: id, next: next, reason: reason})
	return nil
}

func (f *fakeOutbox) MailGaveUp(ctx context.Context, id int64, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.mails[id]; ok {
		m.Attempts++
		m.LastError = reason
	}
	delete(f.mails, id)
	f.gaveUp[id] = reason
	return nil
}

func (f *fakeOutbox) MailDropped(ctx context.Context, id int64, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.mails, id)
	f.dropped[id] = reason
	return nil
}

func (f *fakeOutbox) PruneMail(ctx context.Context, keep time.Duration) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prunes = append(f.prunes, keep)
	return 0, nil
}

func (f *fakeOutbox) MailQueued() <-chan struct{} { return f.wake }

// outcome is what became of an email that left the queue without being
// sent: "failed: reason", "dropped: reason", or "" if it did not.
func (f *fakeOutbox) outcome(id int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.gaveUp[id]; ok {
		return "failed: " + r
	}
	if r, ok := f.dropped[id]; ok {
		return "dropped: " + r
	}
	return ""
}

func (f *fakeOutbox) pruneList() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.prunes...)
}

func (f *fakeOutbox) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.mails)
}

func (f *fakeOutbox) get(id int64) (store.OutboxMail, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.mails[id]
	if !ok {
		return store.OutboxMail{}, false
	}
	return *m, true
}

func (f *fakeOutbox) failureList() []failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]failure(nil), f.failures...)
}

func (f *fakeOutbox) sentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func (f *fakeOutbox) dueCallCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dueCalls
}

// logBuffer collects zerolog output written by the Run goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) count(s string) int { return strings.Count(l.String(), s) }

// waitUntil polls cond until it holds; it fails the test after timeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", testTimeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
