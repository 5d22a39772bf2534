package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/internal/testphone"
)

// End-to-end tests of the operations listener: /metrics scraped while the
// test phone calls the real bridge, promtool on what it serves, and
// /readyz against a database that stops taking writes.

// metricsURL waits for the bridge's "metrics ready" line and returns the
// listener's base URL (without /metrics).
func metricsURL(t *testing.T, b *bridgeProcess) string {
	t.Helper()
	l := b.WaitLog(t, msgIs("metrics ready"), 10*time.Second)
	u, _ := l["url"].(string)
	if !strings.HasSuffix(u, "/metrics") {
		t.Fatalf("metrics ready: url = %q", u)
	}
	return strings.TrimSuffix(u, "/metrics")
}

// httpGet fetches url and returns the status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// scrape is one /metrics answer: each series as written ("name{labels}")
// with its value, and the raw text.
type scrape struct {
	values map[string]float64
	text   string
}

func scrapeMetrics(t *testing.T, base string) scrape {
	t.Helper()
	status, body := httpGet(t, base+"/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	s := scrape{values: map[string]float64{}, text: body}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		s.values[line[:i]] = v
	}
	return s
}

// get is a series' value; a missing series fails the test.
func (s scrape) get(t *testing.T, series string) float64 {
	t.Helper()
	v, ok := s.values[series]
	if !ok {
		t.Fatalf("no series %s in /metrics", series)
	}
	return v
}

// want is what a series must be: exactly a value, or more than one.
type want struct {
	v    float64
	more bool
}

func (w want) ok(v float64) bool { return (!w.more && v == w.v) || (w.more && v > w.v) }

func (w want) String() string {
	if w.more {
		return "more than " + strconv.FormatFloat(w.v, 'g', -1, 64)
	}
	return strconv.FormatFloat(w.v, 'g', -1, 64)
}

// is and more are wants.
func is(v float64) want   { return want{v: v} }
func more(v float64) want { return want{v: v, more: true} }

// waitMetrics scrapes until every series is as wanted.
func waitMetrics(t *testing.T, base string, wants map[string]want) scrape {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := scrapeMetrics(t, base)
		var off []string
		for k, w := range wants {
			v, found := s.values[k]
			if !found || !w.ok(v) {
				off = append(off, k+" = "+strconv.FormatFloat(v, 'g', -1, 64)+", want "+w.String())
			}
		}
		if len(off) == 0 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics not as wanted:\n%s", strings.Join(off, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestMetricsMoveWithTheCalls(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	base := metricsURL(t, b)
	id, pin := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)

	before := waitMetrics(t, base, map[string]want{
		"dialin_calls_active": is(0), `dialin_calls_total{outcome="answered"}`: is(0), "dialin_meetings_active": is(0),
	})
	for _, series := range []string{"dialin_build_info", "go_goroutines", "process_start_time_seconds", "dialin_clock_tick_lateness_seconds_count"} {
		if !strings.Contains(before.text, series) {
			t.Errorf("/metrics has no %s", series)
		}
	}

	// The organizer starts the meeting.
	org := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, org, id)
	b.WaitLog(t, ofCall(org, "conference ID found"), 5*time.Second)
	ivrKeys(t, ctx, org, "*"+pin+"#")
	b.WaitLog(t, ofCall(org, "caller joined the meeting"), 10*time.Second)
	// A caller with a wrong conference ID.
	lost := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, lost, ivrWrongIDs(id, 1)[0])
	b.WaitLog(t, ofCall(lost, "conference ID not found"), 10*time.Second)

	during := waitMetrics(t, base, map[string]want{
		"dialin_calls_active":                                 is(2),
		`dialin_calls_total{outcome="answered"}`:              is(2),
		"dialin_meetings_active":                              is(1),
		"dialin_meeting_participants":                         is(1),
		"dialin_lobby_callers":                                is(0),
		`dialin_ivr_conference_ids_total{result="found"}`:     is(1),
		`dialin_ivr_conference_ids_total{result="not_found"}`: is(1),
		`dialin_ivr_pins_total{result="accepted"}`:            is(1),
		"dialin_answer_latency_seconds_count":                 is(2),
		"dialin_rtp_packets_received_total":                   more(0),
		"dialin_rtp_packets_sent_total":                       more(0),
		"dialin_clock_tick_lateness_seconds_count":            more(0),
	})
	// Media counters only grow while the calls go on.
	time.Sleep(200 * time.Millisecond)
	waitMetrics(t, base, map[string]want{
		"dialin_rtp_packets_received_total": more(during.get(t, "dialin_rtp_packets_received_total")),
		"dialin_rtp_packets_sent_total":     more(during.get(t, "dialin_rtp_packets_sent_total")),
	})

	for _, c := range []*testphone.Call{org, lost} {
		if err := c.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
	}
	after := waitMetrics(t, base, map[string]want{
		"dialin_calls_active": is(0), "dialin_meetings_active": is(0), "dialin_meeting_participants": is(0),
		`dialin_calls_total{outcome="answered"}`: is(2),
		// Both calls' records are written behind the call path.
		`dialin_call_records_total{result="written"}`: is(2),
	})
	if got := after.get(t, "dialin_rtp_packets_received_total"); got < during.get(t, "dialin_rtp_packets_received_total") {
		t.Errorf("rtp received went down from %v to %v", during.get(t, "dialin_rtp_packets_received_total"), got)
	}

	// What the listener serves is valid exposition format.
	promtoolCheck(t, after.text)

	// GET /api/v1/status has the same counters since start.
	var st wire.Status
	ivrAPI(t, b, 200, "GET", "/api/v1/status", "", &st)
	if st.CallsAnswered != 2 || st.IDsNotFound == 0 || st.PINsWrong != 0 || st.Version == "" {
		t.Errorf("status counters %+v, version %q: want 2 answered, a conference ID not found, no wrong PIN",
			st.Counters, st.Version)
	}

	// The health checks, on both ports, without a token.
	for _, u := range []string{base, apiURL(t, b)} {
		if status, body := httpGet(t, u+"/healthz"); status != 200 {
			t.Errorf("%s/healthz: %d %s", u, status, body)
		}
		if status, body := httpGet(t, u+"/readyz"); status != 200 || strings.TrimSpace(body) != "ok" {
			t.Errorf("%s/readyz: %d %s", u, status, body)
		}
	}
}

// promtoolCheck runs promtool check metrics (Debian's prometheus package)
// on an exposition; lint warnings fail the test too.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("SKIPPED: promtool (Debian's prometheus package; scripts/install-test-deps.sh installs it) is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "" {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// A database that stops taking writes under a running bridge makes /readyz
// fail with the reason, and ready again once it takes them.
//
// The tests run as root, who writes to files whatever their mode, so
// chmod proves nothing; and the bridge holds the database open, so a new
// mode would not reach its descriptors anyway. The immutable attribute
// (chattr +i) stops writes through descriptors already open, for root too,
// as a disk remounted read-only does. The -shm file is left alone: SQLite
// maps it, and a write to a mapped immutable file is a SIGBUS, not an error.
func TestReadyzFailsOnAReadOnlyDatabase(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	base := metricsURL(t, b)
	if status, body := httpGet(t, base+"/readyz"); status != 200 {
		t.Fatalf("/readyz before: %d %s", status, body)
	}
	db := filepath.Join(b.Dir, "data", "dialin.db")
	files := []string{db, db + "-wal", filepath.Dir(db)}
	if out, err := exec.Command("chattr", append([]string{"+i"}, files...)...).CombinedOutput(); err != nil {
		t.Skipf("chattr +i is not available here (%v: %s): cannot make the database read-only as root", err, out)
	}
	undo := func() {
		if out, err := exec.Command("chattr", append([]string{"-i"}, files...)...).CombinedOutput(); err != nil {
			t.Errorf("chattr -i: %v: %s", err, out)
		}
	}
	restored := false
	t.Cleanup(func() {
		if !restored {
			undo()
		}
	})

	for _, u := range []string{base, apiURL(t, b)} {
		status, body := httpGet(t, u+"/readyz")
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "database: ") || !strings.Contains(body, "probe write") {
			t.Fatalf("%s/readyz on a read-only database: %d %q, want 503 naming the database", u, status, body)
		}
		t.Logf("%s/readyz: %d %s", u, status, strings.TrimSpace(body))
	}
	// /healthz says only that the process is alive.
	if status, _ := httpGet(t, base+"/healthz"); status != 200 {
		t.Errorf("/healthz on a read-only database: %d, want 200", status)
	}

	undo()
	restored = true
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := httpGet(t, base+"/readyz")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the database is writable again: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
