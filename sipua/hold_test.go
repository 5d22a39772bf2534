package sipua

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/testphone"
)

// TestCallHeld: the caller's re-INVITEs set Held (sendonly and inactive
// hold the bridge; recvonly and sendrecv do not) and signal HoldChanged.
func TestCallHeld(t *testing.T) {
	srv, _, calls := liveServerCalls(t, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	phone, err := testphone.Dial(ctx, testphone.Options{Target: fmt.Sprintf("sip:conference@127.0.0.1:%d", udpPort(srv))})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Hangup(ctx)
	call := <-calls
	if call.Held() {
		t.Fatal("a sendrecv call starts held")
	}
	for _, tc := range []struct {
		dir  string
		held bool
	}{{"sendonly", true}, {"sendrecv", false}, {"inactive", true}, {"recvonly", false}} {
		if err := phone.Reinvite(ctx, tc.dir); err != nil {
			t.Fatalf("re-INVITE %s: %v", tc.dir, err)
		}
		select {
		case <-call.HoldChanged():
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: no HoldChanged signal", tc.dir)
		}
		if call.Held() != tc.held {
			t.Errorf("%s: Held() = %v, want %v", tc.dir, call.Held(), tc.held)
		}
	}
}
