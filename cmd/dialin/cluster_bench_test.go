package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/audiotest"
	"github.com/dialin/dialin/internal/testphone"
)

// TestClusterLoadBench is `make bench-cluster` (DIALIN_CLUSTER_BENCH=1;
// skipped otherwise, it takes about two minutes): what a caller off the
// meeting's home node costs and adds in delay, against the same meetings
// on one node. Two nodes on loopback, one PostgreSQL; MEETINGS meetings
// of SIZE callers, every caller sending a tone all through the window.
//
//   - one node: every caller dials node 1 (the home).
//   - off home: each meeting's organizer dials node 1, its attendees dial
//     node 2, whose IVR moves their media to node 1.
//
// CPU is utime+stime of each bridge process (/proc/PID/stat) over WINDOW
// seconds once everyone is in; per participant is the sum over both
// nodes divided by the callers. The delay is from a probe tone's first
// sent frame to the first loud frame a listener of the same meeting
// reads, mean of PROBES probes, for a listener on the home and one
// moved there. The test phones run in this process and are not counted.
func TestClusterLoadBench(t *testing.T) {
	if os.Getenv("DIALIN_CLUSTER_BENCH") == "" {
		t.Skip("a benchmark: make bench-cluster (DIALIN_CLUSTER_BENCH=1)")
	}
	meetings, size := envInt("MEETINGS", 10), envInt("SIZE", 10)
	window := time.Duration(envInt("WINDOW", 20)) * time.Second
	probes := envInt("PROBES", 30)
	var rows []string
	for _, offHome := range []bool{false, true} {
		name := "one node"
		if offHome {
			name = "off home"
		}
		r := runClusterLoad(t, meetings, size, window, probes, offHome)
		n := float64(meetings * size)
		per := (r.cpu[0] + r.cpu[1]) / n
		perNet := (r.cpu[0] - r.idle[0] + r.cpu[1] - r.idle[1]) / n
		t.Logf("%s: node 1 %.2f %% (idle %.2f), node 2 %.2f %% (idle %.2f) of a core; %.4f %% per participant (%.4f above idle); delay mean %v (listener on the home), %v (listener moved)",
			name, r.cpu[0], r.idle[0], r.cpu[1], r.idle[1], per, perNet, r.delayHome, r.delayMoved)
		rows = append(rows, fmt.Sprintf("| %s | %d | %.2f (%.2f) | %.2f (%.2f) | %.4f | %.4f | %v | %v |", name, meetings*size,
			r.cpu[0], r.idle[0], r.cpu[1], r.idle[1], per, perNet, r.delayHome, r.delayMoved))
	}
	t.Logf("\n| layout | participants | node 1 CPU %% (idle) | node 2 CPU %% (idle) | per participant %% | above idle %% | delay mean, listener on home | delay mean, listener moved |\n|---|---|---|---|---|---|---|---|\n%s",
		strings.Join(rows, "\n"))
}

type clusterLoadResult struct {
	cpu, idle             [2]float64 // % of a core, with the calls and before them
	delayHome, delayMoved time.Duration
}

func runClusterLoad(t *testing.T, meetings, size int, window time.Duration, probes int, offHome bool) clusterLoadResult {
	var res clusterLoadResult
	t.Run(fmt.Sprintf("offHome=%v", offHome), func(t *testing.T) {
		nodes, _, _ := startClusterNodes(t, 2)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		idleStart := [2]time.Duration{procCPU(t, nodes[0]), procCPU(t, nodes[1])}
		idleAt := time.Now()
		time.Sleep(5 * time.Second)
		for i := range 2 {
			res.idle[i] = 100 * float64(procCPU(t, nodes[i])-idleStart[i]) / float64(time.Since(idleAt))
		}
		type meeting struct {
			org  *testphone.Call
			atts []*testphone.Call
		}
		ms := make([]meeting, meetings)
		ids, pins := make([]string, meetings), make([]string, meetings)
		for i := range ms {
			ids[i], pins[i] = ivrOrganizer(t, nodes[0], fmt.Sprintf("org%d@example.com", i))
			ms[i].org = dial(t, nodes[0], testphone.Options{From: fmt.Sprintf("org%d", i)})
		}
		var wg sync.WaitGroup
		for i := range ms {
			wg.Go(func() { _ = ms[i].org.SendDigits(ctx, ids[i]+"*"+pins[i]+"#", 80*time.Millisecond) })
		}
		wg.Wait()
		at := nodes[0]
		if offHome {
			at = nodes[1]
		}
		for i := range ms {
			nodes[0].WaitLog(t, ofCall(ms[i].org, "caller joined the meeting"), 30*time.Second)
			for j := 1; j < size; j++ {
				c := dial(t, at, testphone.Options{From: fmt.Sprintf("att%d-%d", i, j)})
				ms[i].atts = append(ms[i].atts, c)
				wg.Go(func() { _ = c.SendDigits(ctx, ids[i], 80*time.Millisecond) })
			}
		}
		wg.Wait()
		for _, m := range ms {
			for _, c := range m.atts {
				if offHome {
					nodes[1].WaitLog(t, ofCall(c, "media moved to the meeting's home node"), 60*time.Second)
				} else {
					nodes[0].WaitLog(t, ofCall(c, "caller joined the meeting"), 60*time.Second)
				}
			}
		}
		time.Sleep(3 * time.Second) // the joining prompts
		// Everyone talks through the window.
		talk, stopTalk := context.WithCancel(ctx)
		var talking sync.WaitGroup
		for i, m := range ms {
			for j, c := range append([]*testphone.Call{m.org}, m.atts...) {
				freq := 300 + float64((i*size+j)%40)*50
				talking.Go(func() { _ = c.SendTone(talk, []float64{freq}, window+10*time.Second) })
			}
		}
		time.Sleep(time.Second)
		before := [2]time.Duration{procCPU(t, nodes[0]), procCPU(t, nodes[1])}
		start := time.Now()
		time.Sleep(window)
		elapsed := time.Since(start)
		for i := range 2 {
			res.cpu[i] = 100 * float64(procCPU(t, nodes[i])-before[i]) / float64(elapsed)
		}
		stopTalk()
		talking.Wait()

		// Delay probes: the organizer (on the home) sends a 1 kHz burst in
		// a quiet meeting; one listener on the home, one moved (off home).
		m := ms[0]
		var home, moved []time.Duration
		for range probes {
			time.Sleep(300 * time.Millisecond)
			for _, c := range m.atts {
				c.ResetReceived()
			}
			sent := time.Now()
			if err := m.org.SendTone(ctx, []float64{1000}, 200*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			d, ok := firstLoud(m.atts[0].Received(), sent)
			if !ok {
				t.Fatalf("the probe was not heard")
			}
			if offHome {
				moved = append(moved, d)
			} else {
				home = append(home, d)
			}
		}
		res.delayHome, res.delayMoved = mean(home), mean(moved)
	})
	return res
}

// firstLoud is how long after sent the first loud packet arrived.
func firstLoud(rec testphone.Recording, sent time.Time) (time.Duration, bool) {
	for i, p := range rec.PacketLog {
		if p.At.Before(sent) || !p.IsAudio() {
			continue
		}
		if audiotest.RMS(rec.PacketPCM(i)) > 10*testphone.SilenceRMS {
			return p.At.Sub(sent), true
		}
	}
	return 0, false
}

// mean is the probes' mean: the delay steps by the 20 ms tick, so a
// median flips between steps from run to run, the mean does not.
func mean(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return (sum / time.Duration(len(d))).Round(time.Millisecond)
}

// procCPU is a process's user and system time so far.
func procCPU(t *testing.T, b *bridgeProcess) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
