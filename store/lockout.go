package store

import "time"

// lockRules are the effective lockout limits for one user.
type lockRules struct {
	window      time.Duration
	lockFor     time.Duration
	localLimit  int
	globalLimit int
}

// attempt is the outcome of one PIN attempt for the lockout rules.
type attempt int

const (
	attemptOK          attempt = iota // right PIN
	attemptWrong                      // wrong PIN, not locked
	attemptLocked                     // refused: the PIN was already locked
	attemptLockedNow                  // wrong PIN that reached the local limit
	attemptLockedAdmin                // wrong PIN that reached the global limit
)

// record applies one attempt to a user's lock state (Skype for Business
// Server's model). It reports the outcome and whether the state changed.
// A locked PIN refuses even the right PIN: that is what a lock is for.
func (r lockRules) record(l *LockState, right bool, now time.Time) (attempt, bool) {
	if l.Locked(now) {
		return attemptLocked, false
	}
	if right {
		changed := l.Failures != 0 || l.TotalFailures != 0 || !l.WindowStart.IsZero() || !l.LockedUntil.IsZero()
		*l = LockState{}
		return attemptOK, changed
	}
	// Failures count inside an observation window that opens at the first
	// failure; a failure after the window has passed opens a new one.
	if l.Failures == 0 || now.Sub(l.WindowStart) >= r.window {
		l.Failures = 0
		l.WindowStart = now
	}
	l.Failures++
	l.TotalFailures++
	switch {
	case l.TotalFailures >= r.globalLimit:
		l.LockedByAdmin = true
		return attemptLockedAdmin, true
	case l.Failures >= r.localLimit:
		l.LockedUntil = now.Add(r.lockFor)
		// The next window starts after the lock; the total keeps counting
		// toward the global limit.
		l.Failures = 0
		l.WindowStart = time.Time{}
		return attemptLockedNow, true
	}
	return attemptWrong, true
}
