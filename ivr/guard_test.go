package ivr

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

const carrierIP = "203.0.113.5"

var carrierNet = netip.MustParsePrefix("203.0.113.0/28")

// testClock is a fake clock the tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// defaultGuard is the guard of config.Default with carrierNet as a carrier.
func defaultGuard(clock *testClock) *Guard {
	return NewGuard(GuardOptions{
		Limit: 10, Window: 10 * time.Minute, Cooloff: 15 * time.Minute,
		Carriers: []netip.Prefix{carrierNet}, CarrierInterval: time.Minute, CarrierBurst: 10, CarrierMaxWait: 20 * time.Second,
		Now: clock.Now,
	})
}

// fail makes one wrong entry and reports the attempt's verdict.
func fail(g *Guard, caller, source string) Verdict {
	a := g.Begin(caller, source, true)
	if a.Verdict == Check {
		a.Wrong()
	}
	return a.Verdict
}

func TestGuardCountsNumberAndAddress(t *testing.T) {
	clock := &testClock{now: time.Unix(0, 0)}
	g := NewGuard(GuardOptions{Limit: 3, Window: time.Minute, Cooloff: time.Hour, Now: clock.Now})
	g.Begin("+1", "10.0.0.1", true).Wrong()
	g.Begin("+2", "10.0.0.1", true).Wrong()
	r := g.Begin("+3", "10.0.0.1", true).Wrong() // three numbers, one address (not a carrier)
	if !r.Blocked || r.AddressFailures != 3 || r.NumberFailures != 1 {
		t.Fatalf("report %+v", r)
	}
	if refused, _ := g.Refused("+4", "10.0.0.1"); !refused {
		t.Fatal("address not refused")
	}
	if v := g.Begin("+4", "10.0.0.1", true).Verdict; v != Refused {
		t.Fatalf("entry from a refused address: verdict %v", v)
	}
	if refused, _ := g.Refused("+4", "10.0.0.2"); refused {
		t.Fatal("another address refused")
	}
	// Failures spread beyond the window do not add up.
	g2 := NewGuard(GuardOptions{Limit: 3, Window: time.Minute, Cooloff: time.Hour, Now: clock.Now})
	for range 5 {
		fail(g2, "+9", "")
		clock.Add(31 * time.Second)
	}
	if refused, _ := g2.Refused("+9", ""); refused {
		t.Fatal("failures outside the window blocked")
	}
	if refused, _ := (*Guard)(nil).Refused("+1", "x"); refused {
		t.Fatal("nil guard refused")
	}
	if v := (*Guard)(nil).Begin("+1", "x", true).Verdict; v != Check {
		t.Fatal("nil guard did not let an entry be checked")
	}
}

// One IPv6 host rotating through its /64, or an IPv4 address written as
// IPv4-mapped IPv6, is still one source.
func TestGuardAddressKeys(t *testing.T) {
	clock := &testClock{now: time.Unix(0, 0)}
	g := NewGuard(GuardOptions{Limit: 3, Window: time.Minute, Cooloff: time.Hour, Now: clock.Now})
	g.Begin("", "2001:db8:1:2::1", true).Wrong()
	g.Begin("", "2001:db8:1:2:abcd::99", true).Wrong()
	if r := g.Begin("", "2001:db8:1:2:ffff:ffff:ffff:ffff", true).Wrong(); !r.Blocked {
		t.Fatalf("three addresses of one /64: report %+v, want refused", r)
	}
	if refused, _ := g.Refused("", "2001:db8:1:3::1"); refused {
		t.Fatal("the next /64 was refused too")
	}
	g.Begin("", "192.0.2.7", true).Wrong()
	g.Begin("", "::ffff:192.0.2.7", true).Wrong()
	if r := g.Begin("", "192.0.2.7", true).Wrong(); !r.Blocked {
		t.Fatalf("one IPv4 address in two spellings: report %+v, want refused", r)
	}
	for ip, want := range map[string]string{
		"192.0.2.7": "192.0.2.7", "::ffff:192.0.2.7": "192.0.2.7",
		"2001:db8::1": "2001:db8::/64", "fe80::1%eth0": "fe80::/64", "not-an-ip": "not-an-ip",
	} {
		if got := addressKey(ip); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", ip, got, want)
		}
	}
}

// Ordinary mistakes of many callers through one carrier never refuse the
// others: 20 callers from 20 numbers, 3 typos each within 10 minutes, then
// a caller with the right ID gets in at once.
func TestGuardCarrierTyposRefuseNobody(t *testing.T) {
	e := newMenuEnv(t)
	clock := &testClock{now: e.now}
	e.menu.Guard = defaultGuard(clock)
	id := validID(t, "314159")
	e.dir.confs[id] = store.Conference{OrganizerID: 2}
	typos := []string{typo(id, 2), typo(id, 5), swap(id, 3)} // what a check digit catches
	for i := range 20 {
		call := e.runFrom(t, strings.Join(typos, ""), fmt.Sprintf("+1425555%04d", i), carrierIP)
		if got := call.playedNames(); count(got, prompts.InvalidConferenceID) != 2 || got[len(got)-1] != prompts.Goodbye {
			t.Fatalf("caller %d heard %v", i, got)
		}
		clock.Add(29 * time.Second) // 20 callers in under 10 minutes
	}
	call := e.runFrom(t, id, "+14255559999", carrierIP)
	if e.joins() != 1 || e.lastJoin(t).ConferenceID != id {
		t.Fatalf("the caller with the right ID did not get in: %v", call.playedNames())
	}
	if logs := e.logs.String(); strings.Contains(logs, "waits its turn") || strings.Contains(logs, "refused") {
		t.Fatalf("a caller waited or was refused: %s", logs)
	}
}

// A dialler that makes up a new number for every call, with many calls at
// once, is held to the carrier's rate: entries checked by time T are at
// most burst + T/interval (+ the one turn max_wait may hold), and the
// carrier is never refused.
func TestGuardCarrierRateHolds(t *testing.T) {
	clock := &testClock{now: time.Unix(1_000_000, 0)}
	g := defaultGuard(clock)
	start := clock.Now()
	var checks []time.Time // when each wrong entry was checked
	n := 0
	for range 3600 { // an hour, second by second, 5 entries a second
		for range 5 {
			n++
			a := g.Begin(fmt.Sprintf("+1555%07d", n), carrierIP, true)
			switch a.Verdict {
			case Refused:
				t.Fatal("a carrier was refused")
			case Check:
				checks = append(checks, clock.Now().Add(a.Wait))
				a.Wrong()
			}
		}
		clock.Add(time.Second)
	}
	maxDebt := 20.0 / 60
	for i, at := range checks {
		allowed := 10 + at.Sub(start).Minutes() + maxDebt
		if float64(i+1) > allowed+1e-9 {
			t.Fatalf("check %d at %v: more than the %.2f allowed", i+1, at.Sub(start), allowed)
		}
	}
	if got := len(checks); got < 65 || got > 71 {
		t.Fatalf("%d entries checked in an hour, want about 10 + 60", got)
	}
	t.Logf("%d of %d entries checked in an hour (burst 10, one a minute)", len(checks), n)

	// Typos (metered false) never wait, even now.
	if a := g.Begin("+15550000001", carrierIP, false); a.Verdict != Check || a.Wait != 0 {
		t.Fatalf("a typo waited: %+v", a)
	}
}

// A right entry gives its turn back: it neither counts nor spends the
// carrier's budget; the caller hanging up while waiting does the same.
func TestGuardRightGivesBack(t *testing.T) {
	clock := &testClock{now: time.Unix(0, 0)}
	g := NewGuard(GuardOptions{Limit: 3, Window: time.Hour, Cooloff: time.Hour, Carriers: []netip.Prefix{carrierNet},
		CarrierInterval: time.Minute, CarrierBurst: 2, CarrierMaxWait: 2 * time.Minute, Now: clock.Now})
	fail(g, "+1", carrierIP)
	fail(g, "+1", carrierIP)
	a := g.Begin("+1", carrierIP, true) // the third turn reaches the limit...
	if refused, _ := g.Refused("+1", carrierIP); !refused {
		t.Fatal("a pending third failure does not hold the number")
	}
	a.Right() // ...but was right
	if refused, _ := g.Refused("+1", carrierIP); refused {
		t.Fatal("a right entry left the number refused")
	}
	// The budget: 2 spent, the right one given back; the next waits a minute.
	b := g.Begin("+2", carrierIP, true)
	if b.Verdict != Check || b.Wait != time.Minute {
		t.Fatalf("next entry: %+v, want a wait of 1m", b)
	}
	b.Cancel() // hung up while waiting
	if c := g.Begin("+3", carrierIP, true); c.Wait != time.Minute {
		t.Fatalf("a cancelled turn was not given back: wait %v", c.Wait)
	}
}

// Through a carrier, a number that keeps failing is refused as before;
// the carrier's address and the other numbers are not.
func TestGuardCarrierNumberRefused(t *testing.T) {
	clock := &testClock{now: time.Unix(0, 0)}
	g := defaultGuard(clock)
	for range 10 {
		if v := fail(g, "+1", carrierIP); v != Check {
			t.Fatalf("verdict %v before the limit", v)
		}
		clock.Add(time.Minute) // within the carrier's rate
	}
	if refused, _ := g.Refused("+1", carrierIP); !refused {
		t.Fatal("the failing number is not refused")
	}
	if refused, _ := g.Refused("+2", carrierIP); refused {
		t.Fatal("another number from the carrier is refused")
	}
	// The same number from elsewhere is refused too: it is the number.
	if refused, _ := g.Refused("+1", "192.0.2.1"); !refused {
		t.Fatal("the number is not refused from another address")
	}
}

// Anonymous callers share no number: a guesser among them refuses no
// other anonymous caller through a carrier; outside carriers their address
// still counts.
func TestGuardAnonymousIsNoNumber(t *testing.T) {
	clock := &testClock{now: time.Unix(0, 0)}
	g := defaultGuard(clock)
	for _, n := range []string{"anonymous", "Anonymous", "", "restricted", " Private ", "unavailable", "unknown"} {
		if k := numberKey(n); k != "" {
			t.Errorf("%q is counted as a number", n)
		}
	}
	for range 30 {
		fail(g, "anonymous", carrierIP)
		clock.Add(time.Minute)
	}
	if refused, _ := g.Refused("Anonymous", carrierIP); refused {
		t.Fatal("one anonymous guesser refused every anonymous caller of the carrier")
	}
	for range 10 {
		fail(g, "anonymous", "192.0.2.7")
	}
	if refused, _ := g.Refused("anonymous", "192.0.2.7"); !refused {
		t.Fatal("a non-carrier address was not refused")
	}
}

// Concurrent calls from one number make at most Limit wrong entries in
// all: each turn is counted before its entry is checked.
func TestGuardConcurrentBound(t *testing.T) {
	g := NewGuard(GuardOptions{Limit: 10, Window: time.Minute, Cooloff: time.Minute})
	var mu sync.Mutex
	checked := 0
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				a := g.Begin("+1", "192.0.2.9", true)
				if a.Verdict != Check {
					return
				}
				mu.Lock()
				checked++
				mu.Unlock()
				a.Wrong()
			}
		}()
	}
	wg.Wait()
	if checked != 10 {
		t.Fatalf("%d wrong entries checked, want exactly the limit 10", checked)
	}
}

// runFrom is run with the call's number and source address.
func (e *menuEnv) runFrom(t *testing.T, keys, caller, source string) *memCall {
	t.Helper()
	call := newMemCall(e.logs)
	call.caller, call.source = caller, source
	for _, k := range []byte(keys) {
		call.digits <- k
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if entry, ok := e.menu.Identify(ctx, call); ok {
		e.meets.join(entry)
	}
	if ctx.Err() != nil {
		t.Fatal("the menu did not end")
	}
	return call
}

// 20 concurrent calls from one number, 3 wrong IDs each: the menu checks
// at most the limit in all, and every other call hears "try later".
func TestMenuConcurrentGuessersOneNumber(t *testing.T) {
	e := newMenuEnv(t) // limit 5
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.runFrom(t, "1111111"+"2222222"+"3333333", "+14255550100", "192.0.2.10")
		}()
	}
	wg.Wait()
	logs := e.logs.String()
	if n := strings.Count(logs, `"message":"conference ID not found"`); n != 5 {
		t.Fatalf("%d wrong IDs checked, want the limit 5", n)
	}
	if n := strings.Count(logs, "refused: too many failed"); n < 18 {
		t.Fatalf("%d calls or entries refused, want the 18 calls beyond the first two", n)
	}
}

// 9 concurrent calls that know a conference ID guess its PIN from one
// number: no more than the guard's limit of PINs is checked, so the
// organizer's lock (25 for 5 digits) is out of reach.
func TestMenuConcurrentPINGuessersNotChecked(t *testing.T) {
	e := newMenuEnv(t) // limit 5
	var wg sync.WaitGroup
	for range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.runFrom(t, testID+"*"+"11111#22222#33333#", "+14255550100", "192.0.2.10")
		}()
	}
	wg.Wait()
	e.dir.mu.Lock()
	tries := e.dir.tries
	e.dir.mu.Unlock()
	if tries > 5 {
		t.Fatalf("%d PINs checked, want at most the limit 5", tries)
	}
	// Through a carrier with made-up numbers, its budget bounds them.
	e2 := newMenuEnv(t)
	clock := &testClock{now: e2.now}
	e2.menu.Guard = NewGuard(GuardOptions{Limit: 10, Window: 10 * time.Minute, Cooloff: 15 * time.Minute,
		Carriers: []netip.Prefix{carrierNet}, CarrierInterval: time.Minute, CarrierBurst: 10, Now: clock.Now})
	for i := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e2.runFrom(t, testID+"*"+"11111#22222#33333#", fmt.Sprintf("+1555000%04d", i), carrierIP)
		}()
	}
	wg.Wait()
	e2.dir.mu.Lock()
	tries = e2.dir.tries
	e2.dir.mu.Unlock()
	if tries > 10 {
		t.Fatalf("%d PINs checked through the carrier, want at most its burst 10", tries)
	}
}

// Past the carrier's budget an entry waits its turn, right or wrong, then
// is checked; one whose turn is too far is not checked.
func TestMenuCarrierEntryWaitsItsTurn(t *testing.T) {
	e := newMenuEnv(t)
	e.menu.Guard = NewGuard(GuardOptions{Limit: 10, Window: time.Minute, Cooloff: time.Minute,
		Carriers: []netip.Prefix{carrierNet}, CarrierInterval: time.Second, CarrierBurst: 1, CarrierMaxWait: time.Second})
	wrong := validID(t, "271828")
	e.runFrom(t, wrong+"#", "+1", carrierIP) // spends the burst (then goodbye, after silence)
	right := validID(t, "161803")
	e.dir.confs[right] = store.Conference{OrganizerID: 2}
	start := time.Now()
	e.runFrom(t, right, "+2", carrierIP) // the right ID waits its turn too
	if e.joins() != 1 {
		t.Fatal("the right ID was not let in after its wait")
	}
	if !strings.Contains(e.logs.String(), "waits its turn") {
		t.Fatal("no wait logged")
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("the entry did not wait")
	}
}

// validID is body with its check digit.
func validID(t *testing.T, body string) string {
	t.Helper()
	for d := '0'; d <= '9'; d++ {
		if id := body + string(d); store.ValidConferenceID(id) {
			return id
		}
	}
	t.Fatalf("no check digit for %s", body)
	return ""
}

// typo changes the digit at i; swap exchanges digits i and i+1.
func typo(id string, i int) string {
	b := []byte(id)
	b[i] = '0' + (b[i]-'0'+1)%10
	return string(b)
}

func swap(id string, i int) string {
	b := []byte(id)
	b[i], b[i+1] = b[i+1], b[i]
	return string(b)
}

// An entry whose turn is further than the wait allows is not checked: the
// caller hears "try again later" and the call ends; the carrier's next
// caller is not refused at the start of the call.
func TestMenuCarrierOverRateNotChecked(t *testing.T) {
	e := newMenuEnv(t)
	clock := &testClock{now: e.now}
	e.menu.Guard = NewGuard(GuardOptions{Limit: 10, Window: time.Minute, Cooloff: time.Minute,
		Carriers: []netip.Prefix{carrierNet}, CarrierInterval: time.Hour, CarrierBurst: 1, Now: clock.Now})
	right := validID(t, "161803")
	e.dir.confs[right] = store.Conference{OrganizerID: 2}
	e.runFrom(t, validID(t, "271828")+"#", "+1", carrierIP) // spends the burst
	call := e.runFrom(t, right, "+2", carrierIP)
	if e.joins() != 0 {
		t.Fatal("an entry past the carrier's budget was checked")
	}
	if got := call.playedNames(); got[len(got)-1] != prompts.TryLater {
		t.Fatalf("played %v, want try later at the end", got)
	}
	if !strings.Contains(e.logs.String(), "entry not checked: the carrier is over its guessing rate") {
		t.Fatal("not logged")
	}
	if refused, _ := e.menu.Guard.Refused("+3", carrierIP); refused {
		t.Fatal("the carrier's address is refused")
	}
	clock.Add(time.Hour) // a token is due again
	e.runFrom(t, right, "+2", carrierIP)
	if e.joins() != 1 {
		t.Fatal("the right ID was not let in once a turn was due")
	}
}
