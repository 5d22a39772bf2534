package idletrim

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunTrimsWhenIdle(t *testing.T) {
	var calls, trims atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Run(ctx, func() int { return int(calls.Load()) }, 40*time.Millisecond, func() { trims.Add(1) })
		close(done)
	}()
	defer func() { cancel(); <-done }()

	time.Sleep(150 * time.Millisecond)
	if n := trims.Load(); n != 0 {
		t.Fatalf("trimmed %d times before any call", n)
	}
	calls.Store(3)
	time.Sleep(100 * time.Millisecond)
	if n := trims.Load(); n != 0 {
		t.Fatalf("trimmed %d times with calls up", n)
	}
	calls.Store(0)
	deadline := time.Now().Add(5 * time.Second)
	for trims.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no trim after the calls ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := trims.Load(); n != 1 {
		t.Fatalf("trimmed %d times after one busy spell, want 1", n)
	}
}
