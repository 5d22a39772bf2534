package loglimit

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := Limiter{Interval: time.Second, Burst: 2}
	t0 := time.Unix(1700000000, 0)
	var passed []int
	for i := range 10 {
		if ok, n := l.Allow(t0.Add(time.Duration(i) * time.Millisecond)); ok {
			passed = append(passed, n)
		}
	}
	if len(passed) != 2 || passed[0] != 0 || passed[1] != 0 {
		t.Fatalf("first window let through %v, want two lines with nothing suppressed", passed)
	}
	if ok, n := l.Allow(t0.Add(time.Second)); !ok || n != 8 {
		t.Fatalf("next window: %v, %d suppressed; want true, 8", ok, n)
	}
	var zero Limiter // one a second
	if ok, _ := zero.Allow(t0); !ok {
		t.Fatal("zero Limiter refused its first line")
	}
	if ok, _ := zero.Allow(t0.Add(999 * time.Millisecond)); ok {
		t.Fatal("zero Limiter let two lines through in a second")
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("INVITE sip:x ", 1000)
	tests := []struct{ in, want string }{
		{"", ""},
		{"short and plain", "short and plain"},
		{"line\r\nforged: yes", `"line\r\nforged: yes"`},
		{"\xff\xfe", `"\xff\xfe"`},
		{long, `"` + long[:MaxExcerpt] + `"... (13000 bytes)`},
		{strings.Repeat("é", 100), `"` + strings.Repeat("é", 64) + `"... (200 bytes)`},
	}
	for _, tt := range tests {
		if got := Excerpt(tt.in); got != tt.want {
			t.Errorf("Excerpt(%.20q...) = %.60q..., want %.60q...", tt.in, got, tt.want)
		}
		if len(Excerpt(tt.in)) > 4*MaxExcerpt+32 {
			t.Errorf("Excerpt of %d bytes is %d bytes", len(tt.in), len(Excerpt(tt.in)))
		}
	}
}

type stringer struct{ s string }

func (s *stringer) String() string { return s.s }

// TestHandler floods a logger as sipgo does with a bad packet (the whole
// packet in "data") and checks the output stays short, says what it left
// out, and keeps other messages apart.
func TestHandler(t *testing.T) {
	var out bytes.Buffer
	h := NewHandler(slog.NewJSONHandler(&out, nil), time.Second, 3)
	now := time.Unix(1700000000, 0)
	h.state.now = func() time.Time { return now }
	log := slog.New(h).With("component", "sipgo", "raddr", strings.Repeat("r", 500))

	packet := strings.Repeat("X", 32<<10)
	for range 500 {
		log.Error("failed to parse", "data", packet, "error", errors.New("bad start line: "+packet))
	}
	log.Info("another message", "req", &stringer{packet}, "raw", []byte(packet),
		slog.Group("g", "inner", packet), "n", 42)
	var nilStringer *stringer
	log.Info("nil value", "v", nilStringer)
	now = now.Add(time.Second)
	log.Error("failed to parse", "data", "short")

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 3 of the flood, 2 others and 1 after it:\n%s", len(lines), out.String())
	}
	if out.Len() > 8<<10 {
		t.Errorf("%d bytes of log for 500 packets of 32 KB", out.Len())
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if len(line) > 1200 {
			t.Errorf("line %d is %d bytes", i, len(line))
		}
		if i == 5 {
			if m["suppressed"] != float64(497) || m["data"] != "short" {
				t.Errorf("line after the flood: %v, want suppressed 497 and data short", m)
			}
		} else if _, ok := m["suppressed"]; ok {
			t.Errorf("line %d reports suppressed lines: %v", i, m)
		}
		if i == 3 && (m["n"] != float64(42) || m["g"].(map[string]any)["inner"] == nil) {
			t.Errorf("line %d lost its number or group: %v", i, m)
		}
	}
	if !h.Enabled(t.Context(), slog.LevelInfo) || h.Enabled(t.Context(), slog.LevelDebug) {
		t.Error("Enabled does not follow the wrapped handler")
	}
}

// TestHandlerBoundsMessages: distinct messages beyond maxMessages share one
// limit, so varying the message cannot grow the map or the log.
func TestHandlerBoundsMessages(t *testing.T) {
	var out bytes.Buffer
	h := NewHandler(slog.NewTextHandler(&out, nil), time.Second, 1)
	now := time.Unix(1700000000, 0)
	h.state.now = func() time.Time { return now }
	log := slog.New(h.WithGroup("sip"))
	for i := range 10 * maxMessages {
		log.Warn(strings.Repeat("m", i))
	}
	if n := len(h.state.limiters); n != maxMessages {
		t.Errorf("%d limiters, want %d", n, maxMessages)
	}
	if n := strings.Count(out.String(), "\n"); n != maxMessages+1 {
		t.Errorf("%d lines, want %d", n, maxMessages+1)
	}
}
