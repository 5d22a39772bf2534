package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/store"
)

// The demo organizer (asked for by the config, as the no-config demo
// does) is created on first start, its PIN printed once on the terminal and
// nowhere else: not in the log, not in the data folder.
func TestE2EDemoOrganizerPrintedOnceNeverStored(t *testing.T) {
	t.Parallel()
	b := startBridge(t, "demo_organizer: true")
	b.WaitLog(t, msgIs("directory loaded"), 5*time.Second)
	var id, pin string
	deadline := time.Now().Add(5 * time.Second)
	for pin == "" && time.Now().Before(deadline) {
		out := b.tail(1000)
		if m := regexp.MustCompile(`conference ID: (\d{7})`).FindStringSubmatch(out); m != nil {
			id = m[1]
		}
		if m := regexp.MustCompile(`PIN: +(\d+)`).FindStringSubmatch(out); m != nil {
			pin = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if id == "" || len(pin) != 5 {
		t.Fatalf("no demo organizer banner (id %q, PIN of %d digits):\n%s", id, len(pin), b.tail(20))
	}
	for _, l := range b.Logs() {
		for k, v := range l {
			if s, ok := v.(string); ok && strings.Contains(s, pin) && k != "time" {
				t.Errorf("the PIN appears in a log line: %v", l)
			}
		}
	}
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(b.Dir, "data", "*"))
	if len(files) < 2 {
		t.Fatalf("data folder holds %v: want the database and the secret", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(pin)) {
			t.Errorf("the PIN is stored in clear in %s", filepath.Base(f))
		}
		if st, _ := os.Stat(f); st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: others may read it", filepath.Base(f), st.Mode().Perm())
		}
	}

	// A restart keeps the organizer and prints nothing again.
	again := startBridgeIn(t, b.Dir, "demo_organizer: true")
	again.WaitLog(t, allOf(msgIs("directory loaded"), fieldIs("users", "1")), 5*time.Second)
	if strings.Contains(again.tail(1000), "Demo organizer") {
		t.Error("the demo organizer was printed again on restart")
	}
}

// Stored settings that today's checks refuse (a dial-in number from
// before numbers were checked) are named at start; good ones are not.
func TestWarnStoredSettings(t *testing.T) {
	var logs bytes.Buffer
	log := zerolog.New(&logs)
	warnStoredSettings(store.DefaultSettings(), log)
	if logs.Len() != 0 {
		t.Fatalf("good settings warned: %s", logs.String())
	}
	s := store.DefaultSettings()
	s.DialInNumbers = []string{"+1 425 555 0100 (US)"}
	warnStoredSettings(s, log)
	if !strings.Contains(logs.String(), "dial_in_numbers") || !strings.Contains(logs.String(), `"level":"warn"`) {
		t.Fatalf("warning: %s", logs.String())
	}
}
