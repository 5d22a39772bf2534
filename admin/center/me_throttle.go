package center

import (
	"sync"
	"time"
)

// Sign-in links are limited per address and per source: within
// throttleWindow, linksPerAddress requests for one address and
// linksPerSource from one source address are served, whatever the address
// asked for; more get the same answer and no email, so nobody can flood a
// user's mailbox or the mail server through the page, nor tell from the
// page that a limit was reached.
const (
	linksPerAddress = 3
	linksPerSource  = 10
)

// rateLimit counts the link requests served.
type rateLimit struct {
	mu    sync.Mutex
	addrs map[string]*throttleEntry // by email address, lower-case
	srcs  map[string]*throttleEntry // by source address
}

func newRateLimit() *rateLimit {
	return &rateLimit{addrs: map[string]*throttleEntry{}, srcs: map[string]*throttleEntry{}}
}

// allow reports whether a link for email may be sent to source's request,
// and counts it if so.
func (l *rateLimit) allow(email, source string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if over(l.addrs[email], linksPerAddress, now) || over(l.srcs[source], linksPerSource, now) {
		return false
	}
	count(l.addrs, email, now)
	count(l.srcs, source, now)
	return true
}
