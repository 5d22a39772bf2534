package config

import (
	"testing"
	"time"
)

func TestValidateMetricsFields(t *testing.T) {
	cases := []validationCase{
		{"default", func(*Config) {}, ""},
		{"off", func(c *Config) { c.Metrics.Listen = "" }, ""},
		{"not host:port", func(c *Config) { c.Metrics.Listen = "9464" }, `metrics.listen: "9464" is not host:port`},
		{"bad port", func(c *Config) { c.Metrics.Listen = "127.0.0.1:99999" }, `metrics.listen: "127.0.0.1:99999": port "99999" is not 0-65535`},
		{"stuck too short", func(c *Config) { c.Metrics.OutboxStuckAfter = time.Second }, "metrics.outbox_stuck_after: 1s is not between 1m and 168h"},
		{"stall too short", func(c *Config) { c.Metrics.ClockStallAfter = 20 * time.Millisecond }, "metrics.clock_stall_after: 20ms is not between 100ms and 1m"},
	}
	checkValidation(t, cases)
}

func TestLoadMetricsBlock(t *testing.T) {
	clearEnv(t)
	got, err := Load(writeConfig(t, "metrics:\n  listen: \"[::1]:9100\"\n  outbox_stuck_after: 1h\n  clock_stall_after: 2s\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Metrics{Listen: "[::1]:9100", OutboxStuckAfter: time.Hour, ClockStallAfter: 2 * time.Second}
	if got.Metrics != want {
		t.Fatalf("metrics = %+v, want %+v", got.Metrics, want)
	}
}
