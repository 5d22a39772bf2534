package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/internal/atomichist"
	"github.com/dialin/dialin/ivr"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
)

// fakes stand for every source, with figures the tests set.
type fakes struct {
	calls   sipua.CallStats
	menu    ivr.Stats
	counts  bridge.Counts
	clock   *media.Clock
	dir     store.Stats
	pending int
	pendErr error
	mail    mailer.Stats
	ready   error
	probe   error
	stalled error
}

func (f *fakes) CallStats() sipua.CallStats { return f.calls }
func (f *fakes) AnswerLatency() atomichist.Snapshot {
	h := atomichist.New(10*time.Millisecond, time.Second)
	h.Observe(5 * time.Millisecond)
	return h.Snapshot()
}
func (f *fakes) Stats() ivr.Stats                         { return f.menu }
func (f *fakes) Counts() bridge.Counts                    { return f.counts }
func (f *fakes) PendingMail(context.Context) (int, error) { return f.pending, f.pendErr }
func (f *fakes) Ready() error                             { return f.ready }
func (f *fakes) Probe(context.Context) error              { return f.probe }
func (f *fakes) Stalled(time.Time, time.Duration) error   { return f.stalled }
func (f *fakes) mailStats() mailer.Stats                  { return f.mail }
func (f *fakes) dirStats() store.Stats                    { return f.dir }
func (f *fakes) sources() Sources {
	return Sources{Calls: f, Menu: f, Meetings: f, Media: f.clock, Directory: dirFake{f}, Mailer: mailFake{f},
		Records: recordsFake{}}
}

// recordsFake is a call-record writer that wrote 3, dropped 1 and lost none.
type recordsFake struct{}

func (recordsFake) Written() uint64 { return 3 }
func (recordsFake) Dropped() uint64 { return 1 }
func (recordsFake) Failed() uint64  { return 0 }

type dirFake struct{ *fakes }

func (d dirFake) Stats() store.Stats { return d.dirStats() }

type mailFake struct{ *fakes }

func (m mailFake) Stats() mailer.Stats { return m.mailStats() }

func newFakes() *fakes { return &fakes{clock: media.NewClock(1)} }

func TestCollectorExportsTheCounters(t *testing.T) {
	f := newFakes()
	f.calls = sipua.CallStats{Active: 3, Answered: 7, RefusedMaxCalls: 2, RefusedUntrusted: 9}
	f.menu = ivr.Stats{IDFound: 5, GuardCallsRefused: 1}
	f.counts = bridge.Counts{Meetings: 1, Participants: 4, Lobby: 2, RefusedFull: 1}
	f.dir = store.Stats{PINLockouts: 1, MailQueued: 6}
	f.mail = mailer.Stats{Sent: 4, Failed: 2}
	f.pending = 2
	reg := NewRegistry(f.sources())
	const want = `
# HELP dialin_calls_active INVITEs being handled, answered or not.
# TYPE dialin_calls_active gauge
dialin_calls_active 3
# HELP dialin_mail_pending Emails waiting in the outbox.
# TYPE dialin_mail_pending gauge
dialin_mail_pending 2
# HELP dialin_lobby_callers Callers waiting in a lobby.
# TYPE dialin_lobby_callers gauge
dialin_lobby_callers 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "dialin_calls_active", "dialin_mail_pending", "dialin_lobby_callers"); err != nil {
		t.Fatal(err)
	}
	all := series(t, reg)
	for name, v := range map[string]float64{
		`dialin_calls_total{outcome="answered"}`:            7,
		`dialin_calls_total{outcome="refused"}`:             2, // untrusted requests are not calls
		`dialin_calls_refused_total{reason="untrusted"}`:    9,
		`dialin_calls_refused_total{reason="guard"}`:        1,
		`dialin_calls_refused_total{reason="meeting_full"}`: 1,
		`dialin_ivr_conference_ids_total{result="found"}`:   5,
		"dialin_pin_lockouts_total":                         1,
		"dialin_mail_queued_total":                          6,
		"dialin_mail_sent_total":                            4,
		"dialin_mail_failed_total":                          2,
		`dialin_call_records_total{result="written"}`:       3,
		`dialin_call_records_total{result="dropped"}`:       1,
		"dialin_answer_latency_seconds_count":               1,
		`dialin_answer_latency_seconds_bucket{le="0.01"}`:   1,
	} {
		if got, ok := all[name]; !ok || got != v {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, v)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "dialin_build_info", "go_goroutines"); err != nil || n != 2 {
		t.Errorf("build info and Go runtime: %d series, %v", n, err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}

	// A failed database read leaves the pending gauge out, not the scrape.
	f.pendErr = errors.New("database gone")
	srv := httptest.NewServer(Handler(reg, NewHealth(HealthOptions{SIP: f, Database: f, Clock: f, Outbox: f, Mailer: mailFake{f}})))
	defer srv.Close()
	body := get(t, srv.URL+"/metrics", 200)
	if strings.Contains(body, "dialin_mail_pending ") || !strings.Contains(body, "dialin_calls_active 3") {
		t.Errorf("scrape with a failed pending count:\n%s", body)
	}
}

// series scrapes reg and reads every series by its text form
// ("name{labels}").
func series(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := map[string]float64{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func get(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", url, resp.StatusCode, want, b)
	}
	return string(b)
}

// The dashboard names only metrics that exist.
func TestDashboardNamesExistingMetrics(t *testing.T) {
	data, err := os.ReadFile("../deploy/grafana/dialin.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	families, err := NewRegistry(newFakes().sources()).Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				have[f.GetName()+suffix] = true
			}
		}
	}
	name := regexp.MustCompile(`\b(dialin|go|process)_[a-z0-9_]+`)
	named := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				named++
				if !have[m] {
					t.Errorf("panel %q names %s, which /metrics does not have", p.Title, m)
				}
			}
		}
	}
	if named < 20 {
		t.Fatalf("the dashboard names only %d metrics", named)
	}
}

func TestReadyReasons(t *testing.T) {
	f := newFakes()
	now := time.Unix(1_000_000, 0)
	h := NewHealth(HealthOptions{SIP: f, Database: f, Clock: f, Outbox: f, Mailer: mailFake{f}, MailOn: true,
		ClockStallAfter: time.Second, OutboxStuckAfter: 10 * time.Minute, Now: func() time.Time { return now }})
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	if body := get(t, srv.URL+"/readyz", 200); strings.TrimSpace(body) != "ok" {
		t.Fatalf("ready: %q", body)
	}
	f.ready = errors.New("SIP listeners not up yet")
	f.probe = errors.New("disk I/O error")
	f.stalled = errors.New("shard 0 has not ticked for 3s")
	body := get(t, srv.URL+"/readyz", 503)
	for _, want := range []string{"sip: SIP listeners not up yet", "database: disk I/O error", "media: shard 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/readyz %q lacks %q", body, want)
		}
	}
	get(t, srv.URL+"/healthz", 200)
	f.ready, f.probe, f.stalled = nil, nil, nil

	// The outbox: waiting mail is stuck only once none went out for
	// OutboxStuckAfter; a send restarts the count, an empty outbox ends it.
	f.pending = 3
	get(t, srv.URL+"/readyz", 200)
	now = now.Add(9 * time.Minute)
	get(t, srv.URL+"/readyz", 200)
	now = now.Add(2 * time.Minute)
	if body := get(t, srv.URL+"/readyz", 503); !strings.Contains(body, "outbox: 3 emails waiting and none sent for 11m0s") {
		t.Fatalf("stuck outbox: %q", body)
	}
	f.mail.Sent++
	get(t, srv.URL+"/readyz", 200)
	now = now.Add(11 * time.Minute)
	get(t, srv.URL+"/readyz", 503)
	f.pending = 0
	get(t, srv.URL+"/readyz", 200)
	f.pending = 1
	now = now.Add(time.Hour)
	get(t, srv.URL+"/readyz", 200) // the count starts now

	// With no SMTP server configured, mail waits by design.
	h.o.MailOn = false
	now = now.Add(time.Hour)
	get(t, srv.URL+"/readyz", 200)
}
