package callrecord

import (
	"time"

	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/store"
)

// timestampUnit is one RTP timestamp unit of G.711 and telephone-event.
const timestampUnit = time.Second / media.SampleRate

// InQuality is the caller's audio as the session received it: its own
// running figures (media.Stats' Recv fields).
func InQuality(st media.Stats) store.StreamQuality {
	if st.RecvReceived == 0 {
		return store.StreamQuality{}
	}
	lost := max(st.RecvLost(), 0)
	q := store.StreamQuality{
		Measured: true, Packets: int64(st.RecvReceived), Lost: lost,
		Jitter: time.Duration(st.RecvJitter) * timestampUnit, MaxGap: st.MaxGap, HasMaxGap: true,
	}
	q.MOS = EstimateMOS(ratio(lost, int64(st.RecvExpected)), q.Jitter, st.RTT/2)
	return q
}

// OutQuality is our audio as the caller's RTCP receiver reports said it
// arrived: unmeasured without a report. The loss is the report's
// cumulative count over the packets sent; a peer that reports only the
// fraction of its last interval (some phones) is taken at that.
func OutQuality(st media.Stats) store.StreamQuality {
	if st.PeerReports == 0 || st.Sent == 0 {
		return store.StreamQuality{}
	}
	lost := max(int64(st.PeerCumulativeLost), 0)
	q := store.StreamQuality{
		Measured: true, Packets: int64(st.Sent), Lost: lost,
		Jitter: time.Duration(st.PeerJitter) * timestampUnit,
	}
	loss := ratio(lost, int64(st.Sent))
	if lost == 0 {
		loss = float64(st.PeerFractionLost) / 256
	}
	q.MOS = EstimateMOS(loss, q.Jitter, st.RTT/2)
	return q
}

func ratio(part, whole int64) float64 {
	if whole <= 0 || part <= 0 {
		return 0
	}
	return min(float64(part)/float64(whole), 1)
}
