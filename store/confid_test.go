package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"testing"
)

// testRand is a deterministic random source for tests.
func seededRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return mrand.NewChaCha8(s)
}

// TestDammTable proves the guarantees for every possible ID, not only
// sampled ones: rows and columns are permutations (so one wrong digit
// always changes the result) and the quasigroup is weakly totally
// anti-symmetric (so swapping two different adjacent digits always does).
func TestDammTable(t *testing.T) {
	for i := range 10 {
		if dammTable[i][i] != 0 {
			t.Errorf("diagonal [%d][%d] = %d, want 0", i, i, dammTable[i][i])
		}
		var rowSeen, colSeen [10]bool
		for j := range 10 {
			rowSeen[dammTable[i][j]] = true
			colSeen[dammTable[j][i]] = true
		}
		for v := range 10 {
			if !rowSeen[v] || !colSeen[v] {
				t.Errorf("row or column %d is not a permutation", i)
			}
		}
	}
	for c := range 10 {
		for x := range 10 {
			for y := range 10 {
				if x != y && dammTable[dammTable[c][x]][y] == dammTable[dammTable[c][y]][x] {
					t.Errorf("not anti-symmetric: c=%d x=%d y=%d", c, x, y)
				}
			}
		}
	}
}

func TestDammKnownValue(t *testing.T) {
	// The worked example of the Damm algorithm: 572 has check digit 4.
	if got := dammCheckDigit([]byte("572")); got != '4' {
		t.Fatalf("dammCheckDigit(572) = %c, want 4", got)
	}
}

func TestConferenceIDErrorsRefused(t *testing.T) {
	r := seededRand(1)
	for range 10000 {
		id, err := NewConferenceID(r)
		if err != nil {
			t.Fatal(err)
		}
		if !ValidConferenceID(id) {
			t.Fatalf("generated ID %s is not valid", id)
		}
		b := []byte(id)
		for i := range b {
			orig := b[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				b[i] = d
				if ValidConferenceID(string(b)) {
					t.Fatalf("%s: substitution at %d gives valid %s", id, i, b)
				}
			}
			b[i] = orig
		}
		for i := 0; i+1 < len(b); i++ {
			if b[i] == b[i+1] {
				continue
			}
			b[i], b[i+1] = b[i+1], b[i]
			if ValidConferenceID(string(b)) {
				t.Fatalf("%s: transposition at %d gives valid %s", id, i, b)
			}
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
}

func TestConferenceIDDistribution(t *testing.T) {
	const n = 100000
	var counts [ConferenceIDLength - 1][10]int
	var checkCounts [10]int
	seen := make(map[string]bool, n)
	r := seededRand(2)
	for range n {
		id, err := NewConferenceID(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != ConferenceIDLength {
			t.Fatalf("ID %q has length %d", id, len(id))
		}
		seen[id] = true
		for i := range ConferenceIDLength - 1 {
			counts[i][id[i]-'0']++
		}
		checkCounts[id[ConferenceIDLength-1]-'0']++
	}
	// Each digit is expected n/10 = 10000 times per position (sd ~95);
	// 5% is more than 5 sd, so only a real bias fails.
	for i, c := range counts {
		for d, k := range c {
			if k < 9500 || k > 10500 {
				t.Errorf("position %d digit %d: %d times, want about 10000", i, d, k)
			}
		}
	}
	for d, k := range checkCounts {
		if k < 9500 || k > 10500 {
			t.Errorf("check digit %d: %d times, want about 10000", d, k)
		}
	}
	// 100000 draws from 10^6 IDs: about 4800 collisions are expected.
	if len(seen) < 94000 {
		t.Errorf("only %d distinct IDs in %d draws", len(seen), n)
	}
}

func TestConferenceIDCryptoRand(t *testing.T) {
	for range 100 {
		id, err := NewConferenceID(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !ValidConferenceID(id) {
			t.Fatalf("invalid %s", id)
		}
	}
}

// uint64Reader returns the given values, big-endian, then fails.
func uint64Reader(vals ...uint64) io.Reader {
	var buf bytes.Buffer
	for _, v := range vals {
		binary.Write(&buf, binary.BigEndian, v)
	}
	return &buf
}

func TestConferenceIDRejectsBiasedDraws(t *testing.T) {
	// 2^64 mod 10^6 = 551616, so values above MaxUint64-551616 are
	// rejected; the next draw is used.
	id, err := NewConferenceID(uint64Reader(^uint64(0), ^uint64(0)-551615, 123456))
	if err != nil {
		t.Fatal(err)
	}
	if id[:6] != "123456" {
		t.Fatalf("got %s, want the draw 123456 after the two rejected ones", id)
	}
	// The largest accepted value is used.
	id, err = NewConferenceID(uint64Reader(^uint64(0) - 551616))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%06d", (^uint64(0)-551616)%1000000); id[:6] != want {
		t.Fatalf("got %s, want %s", id, want)
	}
	// Leading zeros are kept.
	id, err = NewConferenceID(uint64Reader(42))
	if err != nil {
		t.Fatal(err)
	}
	if id[:6] != "000042" || !ValidConferenceID(id) {
		t.Fatalf("got %s, want 000042 and a check digit", id)
	}
}

func TestConferenceIDBrokenRandom(t *testing.T) {
	if _, err := NewConferenceID(bytes.NewReader(nil)); err == nil {
		t.Fatal("empty reader: no error")
	}
	always := make([]uint64, maxRandomDrawAttempts)
	for i := range always {
		always[i] = ^uint64(0)
	}
	if _, err := NewConferenceID(uint64Reader(always...)); !errors.Is(err, errRandomExhausted) {
		t.Fatalf("reader of rejected values: err = %v", err)
	}
}

func TestValidConferenceID(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"5724", false}, // right check digit, wrong length
		{"0000000", true},
		{"1123345", true}, // DESIGN.md's repeated-digit ID for the sipp DTMF test
		{"1213345", false},
		{"1234567", false},
		{"123456", false},
		{"12345678", false},
		{"", false},
		{"123 456", false},
		{"12345a6", false},
		{"１２３４５６７", false}, // full-width digits
		{"+123456", false},
	} {
		if got := ValidConferenceID(tc.s); got != tc.want {
			t.Errorf("ValidConferenceID(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
	id := "123456" + string(dammCheckDigit([]byte("123456")))
	if !ValidConferenceID(id) {
		t.Errorf("%s is not valid", id)
	}
}

func TestConferenceIDKey(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want uint32
		ok   bool
	}{
		{"0000000", 0, true},
		{"0000042", 42, true},
		{"9999999", 9999999, true},
		{"1234567", 1234567, true}, // check digit not checked here
		{"123456", 0, false},
		{"12345678", 0, false},
		{"12a4567", 0, false},
		{"", 0, false},
	} {
		got, ok := ConferenceIDKey(tc.s)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ConferenceIDKey(%q) = %d, %v; want %d, %v", tc.s, got, ok, tc.want, tc.ok)
		}
	}
}

func TestConferenceIDZeroAllocs(t *testing.T) {
	id, err := NewConferenceID(seededRand(3))
	if err != nil {
		t.Fatal(err)
	}
	var sink bool
	var key uint32
	if a := testing.AllocsPerRun(1000, func() { sink = ValidConferenceID(id) }); a != 0 {
		t.Errorf("ValidConferenceID: %v allocs", a)
	}
	if a := testing.AllocsPerRun(1000, func() { key, sink = ConferenceIDKey(id) }); a != 0 {
		t.Errorf("ConferenceIDKey: %v allocs", a)
	}
	_, _ = sink, key
}

func BenchmarkValidConferenceID(b *testing.B) {
	id, _ := NewConferenceID(seededRand(4))
	b.ReportAllocs()
	for b.Loop() {
		ValidConferenceID(id)
	}
}

func BenchmarkConferenceIDKey(b *testing.B) {
	id, _ := NewConferenceID(seededRand(5))
	b.ReportAllocs()
	for b.Loop() {
		ConferenceIDKey(id)
	}
}

func FuzzValidConferenceID(f *testing.F) {
	for _, s := range []string{"", "0000000", "1234567", "5724", "99999999", "12a4567", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		valid := ValidConferenceID(s)
		key, ok := ConferenceIDKey(s)
		if valid && !ok {
			t.Fatalf("%q valid but no key", s)
		}
		if ok && fmt.Sprintf("%07d", key) != s {
			t.Fatalf("%q: key %d does not format back", s, key)
		}
		if !valid {
			return
		}
		if dammCheckDigit([]byte(s[:ConferenceIDLength-1])) != s[ConferenceIDLength-1] {
			t.Fatalf("%q valid but its check digit is not the Damm digit", s)
		}
		// Every one-digit change of a valid ID is invalid.
		b := []byte(s)
		for i := range b {
			orig := b[i]
			b[i] = '0' + (orig-'0'+1)%10
			if ValidConferenceID(string(b)) {
				t.Fatalf("%q: %s also valid", s, b)
			}
			b[i] = orig
		}
	})
}
