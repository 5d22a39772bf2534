package testphone

import (
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestSendDigitsINFO(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		format      INFOFormat
		contentType string
		bodies      []string
	}{
		{"dtmf-relay", INFODTMFRelay, "application/dtmf-relay", []string{
			"Signal=1\r\nDuration=160\r\n",
			"Signal=*\r\nDuration=160\r\n",
			"Signal=#\r\nDuration=160\r\n",
			"Signal=A\r\nDuration=160\r\n",
		}},
		{"dtmf", INFODTMF, "application/dtmf", []string{"1", "*", "#", "A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t, 10*time.Second)
			uas := startUAS(t, uasConfig{})
			call := dial(t, ctx, Options{Target: uas.target})
			sess := uas.session(ctx)

			if err := call.SendDigitsINFO(ctx, "1*#a", tc.format, 10*time.Millisecond); err != nil {
				t.Fatalf("SendDigitsINFO: %v", err)
			}
			infos := uas.receivedInfos()
			if len(infos) != len(tc.bodies) {
				t.Fatalf("UAS got %d INFOs, want %d", len(infos), len(tc.bodies))
			}
			inviteFromTag, _ := sess.InviteRequest.From().Params.Get("tag")
			inviteToTag, _ := sess.InviteResponse.To().Params.Get("tag")
			lastCSeq := sess.InviteRequest.CSeq().SeqNo
			for i, req := range infos {
				if req.Method != sip.INFO {
					t.Errorf("INFO %d: method %s", i, req.Method)
				}
				if ct := req.ContentType(); ct == nil || ct.Value() != tc.contentType {
					t.Errorf("INFO %d: Content-Type %v, want %s", i, ct, tc.contentType)
				}
				if got := string(req.Body()); got != tc.bodies[i] {
					t.Errorf("INFO %d: body %q, want %q", i, got, tc.bodies[i])
				}
				if got := req.CallID().Value(); got != call.CallID() {
					t.Errorf("INFO %d: Call-ID %q, want %q", i, got, call.CallID())
				}
				if tag, _ := req.From().Params.Get("tag"); tag != inviteFromTag {
					t.Errorf("INFO %d: From tag %q, want %q", i, tag, inviteFromTag)
				}
				if tag, _ := req.To().Params.Get("tag"); tag == "" || tag != inviteToTag {
					t.Errorf("INFO %d: To tag %q, want %q", i, tag, inviteToTag)
				}
				cseq := req.CSeq()
				if cseq.MethodName != sip.INFO || cseq.SeqNo <= lastCSeq {
					t.Errorf("INFO %d: CSeq %d %s after %d", i, cseq.SeqNo, cseq.MethodName, lastCSeq)
				}
				lastCSeq = cseq.SeqNo
			}
			// The keys went by INFO only.
			for _, p := range uas.receivedPackets() {
				if p.PayloadType == 101 {
					t.Fatal("telephone-event sent alongside INFO")
				}
			}
		})
	}
}

func TestSendDigitsINFORejected(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{infoStatus: sip.StatusUnsupportedMediaType})
	call := dial(t, ctx, Options{Target: uas.target})
	uas.session(ctx)

	err := call.SendDigitsINFO(ctx, "12", INFODTMFRelay, 0)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != sip.StatusUnsupportedMediaType {
		t.Fatalf("SendDigitsINFO: %v, want *StatusError 415", err)
	}
	if n := len(uas.receivedInfos()); n != 1 {
		t.Errorf("%d INFOs sent, want 1: a rejected key stops the rest", n)
	}

	if err := call.SendDigitsINFO(ctx, "1x", INFODTMF, 0); err == nil {
		t.Error("key 'x' accepted")
	}
	if err := call.SendDigitsINFO(ctx, "1", INFOFormat(7), 0); err == nil {
		t.Error("unknown format accepted")
	}
	if n := len(uas.receivedInfos()); n != 1 {
		t.Errorf("bad arguments still sent %d INFOs", n-1)
	}

	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := call.SendDigitsINFO(ctx, "1", INFODTMF, 0); !errors.Is(err, ErrEnded) {
		t.Errorf("SendDigitsINFO after Hangup: %v, want ErrEnded", err)
	}
}
