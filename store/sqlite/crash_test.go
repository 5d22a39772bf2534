package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

// The kill -9 test: this test binary runs itself as a child process that
// writes to the database and reports each write it has been told is done;
// the parent kills it with SIGKILL in the middle of the stream, reopens the
// database and checks that it is intact and holds every acknowledged write.
// Three rounds on the same file, so that later rounds open a database whose
// writer was killed.

// crashWriterEnv names the database the child writes; crashRoundEnv keeps
// each round's emails and conference IDs apart.
const (
	crashWriterEnv = "DIALIN_CRASH_WRITER"
	crashRoundEnv  = "DIALIN_CRASH_ROUND"
)

// TestCrashWriter is the child of TestCrashKill9; it runs only when that
// test starts it. It loops CreateUser / SaveLockState / UpdateUser and
// prints, on stdout (unbuffered: one write per line),
//
//	try <kind> <id> <value>   before each call
//	ack <kind> <id> <value>   after the call returned without error
//
// where kind is create (value: the email; id 0 before the ID is known),
// lock (value: the failure count saved) or name (value: the display
// name). It never stops by itself before a minute has passed.
func TestCrashWriter(t *testing.T) {
	path := os.Getenv(crashWriterEnv)
	if path == "" {
		t.Skip("the writer half of TestCrashKill9; runs only as its child")
	}
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	// UpdateUser replaces every field: start from whole users, keep them current.
	users, err := s.ListUsers(ctx, 0, 1<<30)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(uint64(round), uint64(time.Now().UnixNano())))
	fail := func(err error) {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(time.Minute)
	for seq := 1; time.Now().Before(deadline); seq++ {
		switch op := rng.IntN(3); {
		case op == 0 || len(users) < 3:
			n := len(users)
			u := store.User{
				Email:        fmt.Sprintf("r%d-%d@crash.example", round, n),
				DisplayName:  "created",
				ConferenceID: fmt.Sprintf("%07d", round*1_000_000+n),
				PINDigest:    storetest.Digest(strconv.Itoa(seq)),
				PINLength:    5,
				PINSetAt:     time.Now(),
				CreatedAt:    time.Now(),
			}
			fmt.Printf("try create 0 %s\n", u.Email)
			if err := s.CreateUser(ctx, &u, storetest.StaticMeeting(&u), nil); err != nil {
				fail(err)
			}
			fmt.Printf("ack create %d %s\n", u.ID, u.Email)
			users = append(users, u)
		case op == 1:
			u := &users[rng.IntN(len(users))]
			lock := store.LockState{Failures: seq, WindowStart: time.Now(), TotalFailures: seq}
			fmt.Printf("try lock %d %d\n", u.ID, seq)
			if err := s.SaveLockState(ctx, u.ID, lock); err != nil {
				fail(err)
			}
			fmt.Printf("ack lock %d %d\n", u.ID, seq)
			u.Lock = lock
		default:
			u := &users[rng.IntN(len(users))]
			v := *u
			v.DisplayName = fmt.Sprintf("name-%d", seq)
			fmt.Printf("try name %d %s\n", u.ID, v.DisplayName)
			if err := s.UpdateUser(ctx, &v, nil); err != nil {
				fail(err)
			}
			fmt.Printf("ack name %d %s\n", u.ID, v.DisplayName)
			*u = v
		}
	}
	os.Exit(3) // not killed in time: the parent reports it
}

// crashExpect is what the parent knows of one user: its email and the
// last acknowledged values. Failures is a number, DisplayName a string.
type crashExpect struct {
	email    string
	failures string
	name     string
}

func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process three times")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	expect := map[int64]*crashExpect{}
	for round, killAfter := range []int{300, 900, 1600} {
		acks, pending := crashRound(t, path, round, killAfter, expect)
		committed := crashVerify(t, path, expect, pending)
		inFlight := "none"
		if pending != nil {
			inFlight = fmt.Sprintf("%s, committed: %v", strings.Join(pending[1:], " "), committed)
		}
		t.Logf("round %d: SIGKILL after %d acknowledged writes (in flight: %s); reopened: integrity ok, %d users, every acknowledged write present",
			round, acks, inFlight, len(expect))
		if t.Failed() {
			return
		}
	}
}

// crashRound runs the child on path until it has acknowledged killAfter
// writes (or 5 s have passed), kills it with SIGKILL, reads every line it
// wrote before dying, and applies its acknowledgements to expect. It
// returns the number of acknowledged writes and the last "try" line that
// was not acknowledged, if any: that write may or may not have committed.
func crashRound(t *testing.T, path string, round, killAfter int, expect map[int64]*crashExpect) (acks int, pending []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriter$")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+path, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			cmd.Process.Kill() // SIGKILL
		}
	}
	defer kill() // whatever happens, the child does not outlive the round

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	start := time.Now()
	timeout := time.After(5 * time.Second)
	limit := time.After(30 * time.Second)
	for {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-timeout:
			kill() // slow disk: kill with what we have
			continue
		case <-limit:
			kill()
			t.Fatalf("round %d: the writer is stuck after %d acks; stderr:\n%s", round, acks, stderr.String())
		}
		if !ok {
			break // EOF: the child is dead and every line it wrote was read
		}
		f := strings.SplitN(line, " ", 4)
		switch {
		case len(f) == 4 && f[0] == "try":
			pending = f
		case len(f) == 4 && f[0] == "ack":
			pending = nil
			acks++
			crashApply(t, expect, f)
			if acks >= killAfter && !killed {
				// Land somewhere inside a following write.
				time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond)
				kill()
			}
		default:
			t.Fatalf("round %d: writer said %q; stderr:\n%s", round, line, stderr.String())
		}
	}
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !killed || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: writer ended with %v, not by our SIGKILL; stderr:\n%s", round, err, stderr.String())
	}
	if acks < 100 {
		t.Fatalf("round %d: only %d writes acknowledged in %v", round, acks, time.Since(start))
	}
	return acks, pending
}

// crashApply records one "ack" line.
func crashApply(t *testing.T, expect map[int64]*crashExpect, f []string) {
	t.Helper()
	id, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		t.Fatalf("bad ack %q", f)
	}
	if f[1] == "create" {
		expect[id] = &crashExpect{email: f[3], failures: "0", name: "created"}
		return
	}
	e := expect[id]
	if e == nil {
		t.Fatalf("ack for unknown user %d: %q", id, f)
	}
	switch f[1] {
	case "lock":
		e.failures = f[3]
	case "name":
		e.name = f[3]
	}
}

// crashVerify reopens the killed database: it must be intact and hold every
// acknowledged write; the one write in flight (pending) may be there or
// not, and crashVerify reports whether it is. What it finds becomes the
// expectation for the next round.
func crashVerify(t *testing.T, path string, expect map[int64]*crashExpect, pending []string) (pendingCommitted bool) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var fkProblems int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fkProblems); err != nil || fkProblems != 0 {
		t.Fatalf("foreign_key_check: %d problems, %v", fkProblems, err)
	}
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Load leaves out names and addresses: read whole users.
	if snap.Users, err = s.ListUsers(ctx, 0, len(snap.Users)+1); err != nil {
		t.Fatal(err)
	}
	meetings := map[string]int64{}
	for _, m := range snap.Meetings {
		meetings[m.ConferenceID] = m.OrganizerID
	}

	// pending is ["try", kind, id, value]: the write that was in flight.
	inFlight := func(kind string, id int64, value string) bool {
		ok := pending != nil && pending[1] == kind && pending[3] == value &&
			(kind == "create" || pending[2] == strconv.FormatInt(id, 10))
		pendingCommitted = pendingCommitted || ok
		return ok
	}
	present := map[int64]bool{}
	for _, u := range snap.Users {
		present[u.ID] = true
		e := expect[u.ID]
		if e == nil {
			if !inFlight("create", 0, u.Email) {
				t.Errorf("user %d (%s) is there but was never acknowledged nor in flight", u.ID, u.Email)
				continue
			}
			e = &crashExpect{email: u.Email, failures: "0", name: "created"} // committed, not yet acknowledged
			expect[u.ID] = e
		}
		if u.Email != e.email {
			t.Errorf("user %d: email %q, acknowledged %q", u.ID, u.Email, e.email)
		}
		if meetings[u.ConferenceID] != u.ID {
			t.Errorf("user %d: its static meeting %s is missing", u.ID, u.ConferenceID)
		}
		if got := strconv.Itoa(u.Lock.Failures); got != e.failures {
			if !inFlight("lock", u.ID, got) {
				t.Errorf("user %d: failures %s, acknowledged %s", u.ID, got, e.failures)
			}
			e.failures = got
		}
		if u.DisplayName != e.name {
			if !inFlight("name", u.ID, u.DisplayName) {
				t.Errorf("user %d: display name %q, acknowledged %q", u.ID, u.DisplayName, e.name)
			}
			e.name = u.DisplayName
		}
	}
	for id, e := range expect {
		if !present[id] {
			t.Errorf("acknowledged user %d (%s) is missing", id, e.email)
		}
	}
	return pendingCommitted
}
