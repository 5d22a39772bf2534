// Package metrics exports the bridge's figures to Prometheus and answers
// the health checks. The packages that do the work count in their own
// structures with atomics (sipua, ivr, bridge, media, store, the mailer);
// the collector here reads them on each scrape and turns them into
// constant metrics, so nothing on the call or media path allocates, locks
// or even knows of Prometheus.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/internal/atomichist"
	"github.com/dialin/dialin/ivr"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
)

// The sources the collector reads, each what it needs of a package's
// counters.
type (
	// Calls is the SIP user agent (*sipua.Server).
	Calls interface {
		CallStats() sipua.CallStats
		AnswerLatency() atomichist.Snapshot
	}
	// Menu is the IVR (*ivr.Menu).
	Menu interface{ Stats() ivr.Stats }
	// Meetings is the bridge (*bridge.Bridge).
	Meetings interface{ Counts() bridge.Counts }
	// Media is the media clock (*media.Clock).
	Media interface {
		Totals() *media.Totals
		TickLateness() atomichist.Snapshot
		Resets() uint64
	}
	// Directory is the directory (*store.Directory).
	Directory interface {
		Stats() store.Stats
		PendingMail(ctx context.Context) (int, error)
	}
	// Mailer is the outbox's sender (*mailer.Mailer).
	Mailer interface{ Stats() mailer.Stats }
	// Records is the call records' writer (*callrecord.Recorder).
	Records interface {
		Written() uint64 // inserted
		Dropped() uint64 // left out: the queue was full
		Failed() uint64  // lost: the insert failed
	}
)

// Sources are what the collector reads; every one is required.
type Sources struct {
	Calls     Calls
	Menu      Menu
	Meetings  Meetings
	Media     Media
	Directory Directory
	Mailer    Mailer
	Records   Records
}

// pendingTimeout bounds the one database read of a scrape.
const pendingTimeout = 2 * time.Second

// collector turns the sources into metrics on each scrape.
type collector struct {
	src Sources

	callsActive, calls, refused, answerLatency        *prometheus.Desc
	peersGone                                         *prometheus.Desc
	ivrIDs, ivrPINs, guard, lockouts                  *prometheus.Desc
	meetings, participants, lobby                     *prometheus.Desc
	mailQueued, mailSent, mailFailed, mailPending     *prometheus.Desc
	rtpIn, rtpOut, rtpDropped, jitterLate, jitterLost *prometheus.Desc
	jitterDiscarded, tickLateness, clockResets        *prometheus.Desc
	callRecords                                       *prometheus.Desc
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("dialin_"+name, help, labels, nil)
}

func newCollector(src Sources) *collector {
	return &collector{
		src:           src,
		callsActive:   desc("calls_active", "INVITEs being handled, answered or not."),
		calls:         desc("calls_total", "New INVITEs by outcome at the SIP level: answered, refused (see dialin_calls_refused_total), unanswered (cancelled, hung up or never acknowledged before the answer).", "outcome"),
		refused:       desc("calls_refused_total", "Calls refused, by reason. untrusted counts requests and TCP connections from outside sip.trusted_networks; auth, max_calls and shutdown, not_dial_in, bad_request, no_codec, session_timer and no_media are INVITEs refused at the SIP level; guard, meeting_full and meeting_locked are calls the IVR or the bridge refused after answering.", "reason"),
		answerLatency: desc("answer_latency_seconds", "Time from a new INVITE's arrival to our 200 OK (sip.answer_delay included)."),
		peersGone:     desc("calls_peer_gone_total", "Calls hung up because the caller's side was gone (no media, no answer to in-dialog OPTIONS)."),
		ivrIDs:        desc("ivr_conference_ids_total", "Conference IDs entered, by result: found, not_found, none (the caller entered none and was hung up).", "result"),
		ivrPINs:       desc("ivr_pins_total", "Organizer PINs entered, by result: accepted, wrong, locked.", "result"),
		guard:         desc("guard_refusals_total", "The guessing guard's refusals: call (a refused caller's new call), entry (an entry mid-call), over_rate (a carrier over its guessing rate), blocked (a failure that refused a number or address).", "kind"),
		lockouts:      desc("pin_lockouts_total", "Organizer PINs locked by failed attempts."),
		meetings:      desc("meetings_active", "Meetings on."),
		participants:  desc("meeting_participants", "Callers in a meeting."),
		lobby:         desc("lobby_callers", "Callers waiting in a lobby."),
		mailQueued:    desc("mail_queued_total", "Emails queued in the outbox."),
		mailSent:      desc("mail_sent_total", "Emails the SMTP server took."),
		mailFailed:    desc("mail_failed_total", "Failed attempts to send an email (each retry counts)."),
		callRecords:   desc("call_records_total", "Call records by what became of them: written, dropped (the queue was full), failed (the insert failed).", "result"),
		mailPending:   desc("mail_pending", "Emails waiting in the outbox."),
		rtpIn:         desc("rtp_packets_received_total", "RTP packets received and taken."),
		rtpOut:        desc("rtp_packets_sent_total", "RTP packets sent."),
		rtpDropped:    desc("rtp_packets_dropped_total", "RTP packets dropped on arrival: invalid (from the peer's address but of no use: malformed, other codecs, a second source), foreign (from an address the latch rule refuses).", "reason"),
		jitterLate:    desc("jitter_packets_late_total", "Packets the jitter buffers received after their turn to play."),
		jitterLost:    desc("jitter_packets_lost_total", "Sequence numbers whose turn came with no packet (lost in the network, or too late)."),
		jitterDiscarded: desc("jitter_packets_discarded_total",
			"Packets the jitter buffers discarded unplayed (to bound the delay, on a resync, lone strays)."),
		tickLateness: desc("clock_tick_lateness_seconds", "How late each 20 ms media clock tick started against its schedule; past 0.02 s a tick overran."),
		clockResets:  desc("clock_resets_total", "Media clock schedule resets after a stall of more than five frames."),
	}
}

// Describe sends every metric's description.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.callsActive, c.calls, c.refused, c.answerLatency, c.peersGone, c.ivrIDs, c.ivrPINs, c.guard, c.lockouts,
		c.meetings, c.participants, c.lobby, c.mailQueued, c.mailSent, c.mailFailed, c.mailPending,
		c.rtpIn, c.rtpOut, c.rtpDropped, c.jitterLate, c.jitterLost, c.jitterDiscarded, c.tickLateness, c.clockResets,
		c.callRecords,
	} {
		ch <- d
	}
}

// Collect reads the sources once.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	cs := c.src.Calls.CallStats()
	menu := c.src.Menu.Stats()
	meet := c.src.Meetings.Counts()

	gauge(c.callsActive, cs.Active)
	sipRefused := cs.RefusedAuth + cs.RefusedMaxCalls + cs.RefusedShutdown + cs.RefusedNotDialIn +
		cs.RefusedBadRequest + cs.RefusedNoCodec + cs.RefusedSessionTimer + cs.RefusedNoMedia
	counter(c.calls, cs.Answered, "answered")
	counter(c.calls, sipRefused, "refused")
	counter(c.calls, cs.Unanswered, "unanswered")
	for _, r := range []struct {
		reason string
		n      uint64
	}{
		{"untrusted", cs.RefusedUntrusted}, {"auth", cs.RefusedAuth}, {"max_calls", cs.RefusedMaxCalls},
		{"shutdown", cs.RefusedShutdown}, {"not_dial_in", cs.RefusedNotDialIn}, {"bad_request", cs.RefusedBadRequest},
		{"no_codec", cs.RefusedNoCodec}, {"session_timer", cs.RefusedSessionTimer}, {"no_media", cs.RefusedNoMedia},
		{"guard", menu.GuardCallsRefused}, {"meeting_full", meet.RefusedFull}, {"meeting_locked", meet.RefusedLocked},
	} {
		counter(c.refused, r.n, r.reason)
	}
	ch <- histogram(c.answerLatency, c.src.Calls.AnswerLatency())
	counter(c.peersGone, cs.PeersGone)

	counter(c.ivrIDs, menu.IDFound, "found")
	counter(c.ivrIDs, menu.IDNotFound, "not_found")
	counter(c.ivrIDs, menu.IDGaveUp, "none")
	counter(c.ivrPINs, menu.PINAccepted, "accepted")
	counter(c.ivrPINs, menu.PINWrong, "wrong")
	counter(c.ivrPINs, menu.PINLocked, "locked")
	counter(c.guard, menu.GuardCallsRefused, "call")
	counter(c.guard, menu.GuardEntriesRefused, "entry")
	counter(c.guard, menu.GuardOverRate, "over_rate")
	counter(c.guard, menu.GuardBlocked, "blocked")
	ds := c.src.Directory.Stats()
	counter(c.lockouts, ds.PINLockouts)

	gauge(c.meetings, meet.Meetings)
	gauge(c.participants, meet.Participants)
	gauge(c.lobby, meet.Lobby)

	ms := c.src.Mailer.Stats()
	counter(c.mailQueued, ds.MailQueued)
	counter(c.mailSent, ms.Sent)
	counter(c.mailFailed, ms.Failed)
	counter(c.callRecords, c.src.Records.Written(), "written")
	counter(c.callRecords, c.src.Records.Dropped(), "dropped")
	counter(c.callRecords, c.src.Records.Failed(), "failed")
	ctx, cancel := context.WithTimeout(context.Background(), pendingTimeout)
	defer cancel()
	if n, err := c.src.Directory.PendingMail(ctx); err == nil {
		gauge(c.mailPending, n)
	} else {
		ch <- prometheus.NewInvalidMetric(c.mailPending, err)
	}

	t := c.src.Media.Totals().Snapshot()
	counter(c.rtpIn, t.Received)
	counter(c.rtpOut, t.Sent)
	counter(c.rtpDropped, t.Dropped, "invalid")
	counter(c.rtpDropped, t.DroppedForeign, "foreign")
	counter(c.jitterLate, t.JitterLate)
	counter(c.jitterLost, t.JitterLost)
	counter(c.jitterDiscarded, t.JitterDiscarded)
	ch <- histogram(c.tickLateness, c.src.Media.TickLateness())
	counter(c.clockResets, c.src.Media.Resets())
}

// histogram turns an atomic histogram's snapshot into a constant one
// (cumulative buckets, in seconds).
func histogram(d *prometheus.Desc, s atomichist.Snapshot) prometheus.Metric {
	buckets := make(map[float64]uint64, len(s.Bounds))
	var cum uint64
	for i, b := range s.Bounds {
		cum += s.Counts[i]
		buckets[b.Seconds()] = cum
	}
	return prometheus.MustNewConstHistogram(d, s.Count(), s.Sum.Seconds(), buckets)
}
