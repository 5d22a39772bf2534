package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCheckPINRules(t *testing.T) {
	const confID = "3141592" // a valid-looking ID; only containment matters here
	block := PINRules{Length: 5, BlockCommon: true, ConferenceID: confID}
	open := PINRules{Length: 5}
	for _, tc := range []struct {
		name  string
		pin   string
		rules PINRules
		rule  string // "" = accepted
	}{
		{"ok", "58203", block, ""},
		{"empty", "", block, "length"},
		{"letters", "12a45", block, "digits"},
		{"space", "582 03", block, "digits"},
		{"star", "5820*", block, "digits"},
		{"unicode digit", "5820٣", block, "digits"},
		{"digits checked before length", "a", block, "digits"},
		{"too short", "5820", block, "length"},
		{"longer than generated is fine", "582039", block, ""},
		{"max 12", "582039174602", block, ""},
		{"13 too long", "5820391746028", block, "length"},
		{"min 4 boundary", "5820", PINRules{Length: 4, BlockCommon: true}, ""},
		{"3 never", "582", PINRules{Length: 4}, "length"},
		{"length 0 clamps to 4", "582", PINRules{}, "length"},
		{"length 0 clamps to 4 ok", "5820", PINRules{}, ""},
		{"length 20 clamps to 12", "582039174602", PINRules{Length: 20}, ""},
		{"length 12 short", "58203917460", PINRules{Length: 12}, "length"},
		{"length raised", "58203", PINRules{Length: 6}, "length"},
		{"length lowered", "58203", PINRules{Length: 4}, ""},
		{"repeated", "11111", block, "repeated"},
		{"repeated 12", "000000000000", block, "repeated"},
		{"repeated allowed without blocking", "11111", open, ""},
		{"almost repeated", "11112", block, ""},
		{"ascending", "12345", block, "sequence"},
		{"descending", "98765", block, "sequence"},
		{"run of 4 inside", "901234", block, "sequence"},
		{"descending run inside", "5543210", block, "sequence"},
		{"run at end", "70123", block, "sequence"},
		{"run of 3 ok", "12358", block, ""},
		{"two runs of 3", "123321", block, ""},
		{"no wrap 8901", "89015", block, ""},
		{"no wrap 7890", "78905", block, ""},
		{"no wrap 1098", "10985", block, ""},
		{"sequence allowed without blocking", "12345", open, ""},
		{"equals conference ID", confID, block, "conference_id"},
		{"contains conference ID", "9" + confID, block, "conference_id"},
		{"part of conference ID", "41592", block, "conference_id"},
		{"part of conference ID, 4 digits", "3141", PINRules{Length: 4, BlockCommon: true, ConferenceID: confID}, "conference_id"},
		{"conference ID without blocking", confID, PINRules{Length: 5, ConferenceID: confID}, ""},
		{"no conference ID (dynamic)", "41592", PINRules{Length: 5, BlockCommon: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPIN(tc.pin, tc.rules)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("CheckPIN(%q) = %v, want nil", tc.pin, err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("CheckPIN(%q) = %v, want a *PolicyError", tc.pin, err)
			}
			if pe.Rule != tc.rule {
				t.Fatalf("CheckPIN(%q) rule %q (%v), want %q", tc.pin, pe.Rule, err, tc.rule)
			}
			if len(tc.pin) >= MinPINLength && strings.Contains(err.Error(), tc.pin) {
				t.Fatalf("error %q contains the PIN", err)
			}
		})
	}
}

func TestCheckPINMessages(t *testing.T) {
	for pin, want := range map[string]string{
		"1234":  "PIN must have 5 to 12 digits",
		"11111": "PIN must not be one digit repeated",
		"12345": "PIN must not contain 4 or more consecutive ascending or descending digits",
		"12a45": "PIN must contain only the digits 0 to 9",
	} {
		err := CheckPIN(pin, PINRules{Length: 5, BlockCommon: true})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckPIN(%q) = %v, want %q", pin, err, want)
		}
	}
	err := CheckPIN("123", PINRules{Length: 12})
	if err == nil || !strings.Contains(err.Error(), "PIN must have 12 digits") {
		t.Errorf("length 12: %v", err)
	}
}

func TestGeneratePINPassesRules(t *testing.T) {
	r := seededRand(10)
	const samples = 10000
	for length := MinPINLength; length <= MaxPINLength; length++ {
		rules := PINRules{Length: length, BlockCommon: true, ConferenceID: "3141592"}
		var first [10]int
		for range samples {
			pin, err := GeneratePIN(r, rules)
			if err != nil {
				t.Fatal(err)
			}
			if len(pin) != length {
				t.Fatalf("length %d: got %q", length, pin)
			}
			if err := CheckPIN(pin, rules); err != nil {
				t.Fatalf("generated PIN refused: %v", err)
			}
			first[pin[0]-'0']++
		}
		// Leading zeros happen and no digit is favoured (expected 1000).
		for d, k := range first {
			if k < 850 || k > 1150 {
				t.Errorf("length %d: first digit %d %d times in %d", length, d, k, samples)
			}
		}
	}
}

func TestGeneratePINSkipsBlocked(t *testing.T) {
	// 1111 (repeated), 1234 (sequence), then 5820.
	r := uint64Reader(1111, 1234, 5820)
	pin, err := GeneratePIN(r, PINRules{Length: 4, BlockCommon: true})
	if err != nil || pin != "5820" {
		t.Fatalf("got %q, %v; want 5820", pin, err)
	}
	// Without blocking, the first draw is used.
	pin, err = GeneratePIN(uint64Reader(1111), PINRules{Length: 4})
	if err != nil || pin != "1111" {
		t.Fatalf("got %q, %v; want 1111", pin, err)
	}
}

func TestGeneratePINErrors(t *testing.T) {
	for _, n := range []int{0, 3, 13} {
		if _, err := GeneratePIN(rand.Reader, PINRules{Length: n}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("length %d: err = %v", n, err)
		}
	}
	if _, err := GeneratePIN(bytes.NewReader(nil), PINRules{Length: 5}); err == nil {
		t.Error("empty reader: no error")
	}
	// A source that only ever yields a blocked PIN gives up.
	vals := make([]uint64, maxPINAttempts)
	for i := range vals {
		vals[i] = 1111
	}
	if _, err := GeneratePIN(uint64Reader(vals...), PINRules{Length: 4, BlockCommon: true}); err == nil {
		t.Error("always blocked: no error")
	}
}

func TestGeneratePINCryptoRand(t *testing.T) {
	pin, err := GeneratePIN(rand.Reader, PINRules{Length: DefaultPINLength, BlockCommon: true})
	if err != nil || len(pin) != DefaultPINLength {
		t.Fatalf("got %q, %v", pin, err)
	}
}

func pinTestSecret(n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = byte(i*7 + 1)
	}
	return s
}

func hmacRef(secret []byte, pin string) [32]byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(pin))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

func TestNewPINHasherShortSecret(t *testing.T) {
	for _, n := range []int{0, 16, 31} {
		if _, err := NewPINHasher(pinTestSecret(n)); err == nil {
			t.Errorf("%d-byte secret accepted", n)
		}
	}
}

func TestPINDigestEqualsHMAC(t *testing.T) {
	r := seededRand(11)
	// Keys shorter than, equal to and longer than the SHA-256 block.
	for _, n := range []int{32, 63, 64, 65, 131} {
		secret := pinTestSecret(n)
		h, err := NewPINHasher(secret)
		if err != nil {
			t.Fatal(err)
		}
		for length := 0; length <= 40; length++ {
			for range 50 {
				b := make([]byte, length)
				r.Read(b)
				if length <= MaxPINLength && length%2 == 0 {
					for i := range b { // digits too, the common case
						b[i] = '0' + b[i]%10
					}
				}
				pin := string(b)
				if got, want := h.Digest(pin), hmacRef(secret, pin); got != want {
					t.Fatalf("key %d bytes, input %x: digest %x, want %x", n, pin, got, want)
				}
			}
		}
	}
}

// RFC 4231 test case 6: a 131-byte key (hashed first); the 54-byte message
// takes the long-input path.
func TestPINDigestRFC4231(t *testing.T) {
	h, err := NewPINHasher(bytes.Repeat([]byte{0xaa}, 131))
	if err != nil {
		t.Fatal(err)
	}
	got := h.Digest("Test Using Larger Than Block-Size Key - Hash Key First")
	if want := "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"; hex.EncodeToString(got[:]) != want {
		t.Fatalf("got %x, want %s", got, want)
	}
}

func TestPINSecretCopied(t *testing.T) {
	secret := pinTestSecret(32)
	h, _ := NewPINHasher(secret)
	before := h.Digest("58203")
	clear(secret)
	if h.Digest("58203") != before {
		t.Fatal("hasher depends on the caller's slice")
	}
}

func TestPINMatch(t *testing.T) {
	h, _ := NewPINHasher(pinTestSecret(32))
	other, _ := NewPINHasher(pinTestSecret(33))
	d := h.Digest("58203")
	for _, tc := range []struct {
		pin  string
		want bool
	}{
		{"58203", true},
		{"58204", false},
		{"5820", false},
		{"582030", false},
		{"", false},
		{strings.Repeat("5", MaxPINLength+1), false},
		{strings.Repeat("5", 1<<20), false},
	} {
		if got := h.Match(&d, tc.pin); got != tc.want {
			t.Errorf("Match(%.20q) = %v, want %v", tc.pin, got, tc.want)
		}
	}
	if other.Match(&d, "58203") {
		t.Error("digest matched under another secret")
	}
	if h.Match(nil, "58203") {
		t.Error("nil digest matched")
	}
	// A 12-digit PIN, the longest, still matches.
	long := "582039174602"
	dl := h.Digest(long)
	if !h.Match(&dl, long) {
		t.Error("12-digit PIN does not match")
	}
	// A 13-byte input never matches, even its own digest.
	tooLong := long + "1"
	dt := h.Digest(tooLong)
	if h.Match(&dt, tooLong) {
		t.Error("13-digit input matched")
	}
}

func TestPINHasherZeroValuePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("zero PINHasher did not panic")
		}
	}()
	var h PINHasher
	h.Digest("58203")
}

func TestPINHasherPrintsNoSecret(t *testing.T) {
	secret := []byte(strings.Repeat("S", 32))
	h, _ := NewPINHasher(secret)
	for _, s := range []string{fmt.Sprint(h), fmt.Sprint(*h), fmt.Sprintf("%+v", h), fmt.Sprintf("%#v", h), fmt.Sprintf("%#v", *h)} {
		if s != "store.PINHasher{secret hidden}" {
			t.Errorf("printed hasher: %s", s)
		}
	}
}

func TestPINZeroAllocs(t *testing.T) {
	h, _ := NewPINHasher(pinTestSecret(32))
	d := h.Digest("58203")
	var sink [32]byte
	var ok bool
	if a := testing.AllocsPerRun(1000, func() { sink = h.Digest("582039174602") }); a != 0 {
		t.Errorf("Digest: %v allocs", a)
	}
	if a := testing.AllocsPerRun(1000, func() { ok = h.Match(&d, "58203") }); a != 0 {
		t.Errorf("Match: %v allocs", a)
	}
	if a := testing.AllocsPerRun(1000, func() { ok = h.Match(&d, "5820391746021") }); a != 0 {
		t.Errorf("Match too long: %v allocs", a)
	}
	_, _ = sink, ok
}

func BenchmarkPINDigest(b *testing.B) {
	h, _ := NewPINHasher(pinTestSecret(32))
	b.ReportAllocs()
	for b.Loop() {
		h.Digest("58203")
	}
}

func BenchmarkPINMatch(b *testing.B) {
	h, _ := NewPINHasher(pinTestSecret(32))
	d := h.Digest("58203")
	b.ReportAllocs()
	for b.Loop() {
		h.Match(&d, "58204")
	}
}

func BenchmarkCheckPIN(b *testing.B) {
	rules := PINRules{Length: 5, BlockCommon: true, ConferenceID: "3141592"}
	b.ReportAllocs()
	for b.Loop() {
		CheckPIN("58203917", rules)
	}
}

func FuzzCheckPIN(f *testing.F) {
	f.Add("58203", 5, true, "3141592")
	f.Add("12345", 5, true, "")
	f.Add("", 0, false, "")
	f.Add("5820391746028", 4, true, "1")
	f.Add("٣٣٣٣", 4, true, "3333")
	f.Fuzz(func(t *testing.T, pin string, length int, blockCommon bool, confID string) {
		rules := PINRules{Length: length, BlockCommon: blockCommon, ConferenceID: confID}
		err := CheckPIN(pin, rules)
		if err == nil {
			if len(pin) < MinPINLength || len(pin) > MaxPINLength || len(pin) < min(length, MaxPINLength) {
				t.Fatalf("accepted %q with length %d", pin, length)
			}
			for i := 0; i < len(pin); i++ {
				if pin[i] < '0' || pin[i] > '9' {
					t.Fatalf("accepted non-digit %q", pin)
				}
			}
			if blockCommon && (strings.Count(pin, pin[:1]) == len(pin) || hasSequence(pin)) {
				t.Fatalf("accepted common pattern %q", pin)
			}
			return
		}
		var pe *PolicyError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v is not a *PolicyError", err)
		}
		// Messages hold no run of 4 digits, so no all-digit PIN can appear.
		if len(pin) >= MinPINLength && strings.Trim(pin, "0123456789") == "" && strings.Contains(err.Error(), pin) {
			t.Fatalf("error %q contains the PIN", err)
		}
	})
}
