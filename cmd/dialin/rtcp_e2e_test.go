package main

import (
	"context"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/testphone"
)

// The real bridge sends RTCP at rtp.rtcp_interval, on the odd port or
// muxed, and a caller's report of 10 % loss reaches the "call ended" line.
func TestE2ERTCPReports(t *testing.T) {
	t.Parallel()
	b := startBridge(t, "rtp: {rtcp_interval: 200ms}")
	for _, mux := range []bool{false, true} {
		call := dial(t, b, testphone.Options{RTCPMux: mux, RTCPInterval: 100 * time.Millisecond, RTCPReportLoss: 0.1})
		time.Sleep(1200 * time.Millisecond)
		st := call.RTCPStats()
		// One every 100-300 ms: about six in 1.2 s.
		if n := st.SR + st.RR; n < 2 || n > 14 || st.SR == 0 {
			t.Errorf("mux %v: the bridge's reports in 1.2 s: %+v", mux, st)
		}
		if mux && st.Muxed != st.SR+st.RR || !mux && st.Muxed != 0 {
			t.Errorf("mux %v: %d of %d reports on the RTP port", mux, st.Muxed, st.SR+st.RR)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := call.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		ended := b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", call.CallID())), 5*time.Second)
		if loss, _ := ended["peer_loss_pct"].(float64); loss < 9.7 || loss > 9.8 {
			t.Errorf("mux %v: call ended with peer_loss_pct %v, want 9.77 (25/256): %v", mux, ended["peer_loss_pct"], ended)
		}
		if n, _ := ended["rtcp_received"].(float64); n < 2 {
			t.Errorf("mux %v: rtcp_received %v", mux, ended["rtcp_received"])
		}
	}
}
