package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dialin/dialin/config"
)

// TestConsoleLogNoColourWhenRedirected: the console format writes colour
// codes to a terminal only; into a pipe (a redirect, journald) it writes
// plain text, and durations carry their unit either way.
func TestConsoleLogNoColourWhenRedirected(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	log := newLogger(config.Log{Level: "info", Format: "console"}, w)
	log.Info().Dur("wait", 1500*time.Millisecond).Msg("hello")
	w.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("colour codes in a redirected log: %q", out.String())
	}
	if !strings.Contains(out.String(), "wait=1.5s") {
		t.Errorf("duration without its unit: %q", out.String())
	}

	var js bytes.Buffer
	jl := newLogger(config.Log{Level: "info", Format: "json"}, &js)
	jl.Info().Dur("wait", 250*time.Millisecond).Msg("x")
	if !strings.Contains(js.String(), `"wait":"250ms"`) {
		t.Errorf("JSON duration: %s", js.String())
	}
}

// TestConsoleLogColourOnTerminal: on a real terminal (a pseudo-terminal
// here) the console format keeps its colours.
func TestConsoleLogColourOnTerminal(t *testing.T) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	defer slave.Close()
	tl := newLogger(config.Log{Level: "info", Format: "console"}, slave)
	tl.Info().Msg("hello")
	buf := make([]byte, 4096)
	if err := master.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Skipf("no read deadline on the pseudo-terminal: %v", err)
	}
	got, err := master.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(buf[:got]), "\x1b[") {
		t.Errorf("no colour on a terminal: %q", buf[:got])
	}
}
