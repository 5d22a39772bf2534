// Package loglimit keeps log lines that outside traffic can cause short and
// few: a Limiter lets a burst of lines through per interval and counts the
// rest, Excerpt cuts what a packet put in a line to a quoted prefix, and
// Handler does both for a log/slog logger (sipgo's).
package loglimit

import (
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limiter lets Burst lines through per Interval and counts the lines it
// leaves out; the next line let through reports the count. The zero value
// lets one line a second through. It is safe for concurrent use.
type Limiter struct {
	Interval time.Duration // 0: one second
	Burst    int           // 0: one line

	mu         sync.Mutex
	windowEnd  time.Time
	passed     int
	suppressed int
}

// Allow reports whether a line may be written now, and when it may, how
// many lines were left out since the last one written.
func (l *Limiter) Allow(now time.Time) (ok bool, suppressed int) {
	interval, burst := l.Interval, l.Burst
	if interval <= 0 {
		interval = time.Second
	}
	if burst <= 0 {
		burst = 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !now.Before(l.windowEnd) {
		l.windowEnd = now.Add(interval)
		l.passed = 0
	}
	if l.passed >= burst {
		l.suppressed++
		return false, 0
	}
	l.passed++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

// MaxExcerpt is how many bytes of outside text a log line carries.
const MaxExcerpt = 128

// Excerpt returns s when it is short and printable, and otherwise a quoted
// prefix of at most MaxExcerpt bytes of it with its full length, so that a
// packet can neither fill the log nor forge lines in it.
func Excerpt(s string) string {
	if len(s) <= MaxExcerpt && printable(s) {
		return s
	}
	if len(s) <= MaxExcerpt {
		return strconv.Quote(s)
	}
	cut := MaxExcerpt
	for cut > MaxExcerpt-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut-- // do not split a character (invalid bytes are quoted anyway)
	}
	return strconv.Quote(s[:cut]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
