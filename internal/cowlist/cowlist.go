// Package cowlist is a copy-on-write list for the media hot paths: a clock
// tick reads it with one atomic load and no lock, while calls joining and
// leaving (rare next to 50 ticks a second) copy it under a mutex.
package cowlist

import (
	"sync"
	"sync/atomic"
)

// List is a copy-on-write list of T. The zero value is an empty list.
type List[T comparable] struct {
	mu    sync.Mutex // serialises Add and Remove
	items atomic.Pointer[[]T]
}

// Load is the current list; it must not be modified.
func (l *List[T]) Load() []T {
	if p := l.items.Load(); p != nil {
		return *p
	}
	return nil
}

// Add appends x.
func (l *List[T]) Add(x T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.Load()
	next := make([]T, len(old), len(old)+1)
	copy(next, old)
	next = append(next, x)
	l.items.Store(&next)
}

// Remove takes out the first x and reports whether it was there.
func (l *List[T]) Remove(x T) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.Load()
	for i, y := range old {
		if y == x {
			next := make([]T, 0, len(old)-1)
			next = append(next, old[:i]...)
			next = append(next, old[i+1:]...)
			l.items.Store(&next)
			return true
		}
	}
	return false
}

// Len is the number of items.
func (l *List[T]) Len() int { return len(l.Load()) }
