package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// A conference ID is ConferenceIDLength (7) digits: 6 random digits and a
// Damm check digit. Damm's quasigroup is weakly totally anti-symmetric, so
// the check digit catches every single-digit error and every transposition
// of two adjacent digits (including the check digit itself): the IVR refuses
// such a mistyped ID before any lookup, instead of possibly landing the
// caller in someone else's meeting. Luhn would miss 09<->90.
//
// A leading 0 is allowed: callers type the ID on a keypad, where 0 is a
// digit like any other, and IDs are kept as strings everywhere. Only
// ConferenceIDKey turns one into a number; the length is fixed, so that
// number is still unique (format it back with %07d, never %d).

// dammTable is the order-10 weakly totally anti-symmetric quasigroup of
// H. Michael Damm (2004), as commonly published.
var dammTable = [10][10]uint8{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// dammCheckDigit returns the ASCII Damm check digit of ASCII digits (the
// caller has checked they are digits). Appending it makes the whole string
// check to 0, which is what ValidConferenceID tests.
func dammCheckDigit(digits []byte) byte {
	var interim uint8
	for _, c := range digits {
		interim = dammTable[interim][c-'0']
	}
	return '0' + interim
}

// NewConferenceID returns a new conference ID: 6 uniformly random digits
// read from r (crypto/rand.Reader in production) and a Damm check digit.
// It does not know which IDs are taken; the caller retries on a collision.
func NewConferenceID(r io.Reader) (string, error) {
	var id [ConferenceIDLength]byte
	body := id[:ConferenceIDLength-1]
	if err := randomDigits(r, body); err != nil {
		return "", fmt.Errorf("new conference ID: %w", err)
	}
	id[ConferenceIDLength-1] = dammCheckDigit(body)
	return string(id[:]), nil
}

// ValidConferenceID reports whether s is exactly 7 ASCII digits whose Damm
// check digit is right. It allocates nothing, so the IVR can call it on
// every entered ID before looking it up.
func ValidConferenceID(s string) bool {
	if len(s) != ConferenceIDLength {
		return false
	}
	var interim uint8
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		interim = dammTable[interim][c-'0']
	}
	return interim == 0
}

// ConferenceIDKey returns the numeric value of a 7-digit conference ID, for
// keys of the in-memory index (a uint32 is smaller and faster to hash than a
// string). It is false if s is not exactly 7 ASCII digits. It does not check
// the check digit: ValidConferenceID does. It allocates nothing.
func ConferenceIDKey(s string) (uint32, bool) {
	if len(s) != ConferenceIDLength {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint32(c-'0')
	}
	return v, true
}

// maxRandomDrawAttempts bounds randomDigits' rejection sampling. With a real
// random source a draw is rejected with probability below 1e-7 (6 digits) or
// 1e-6 (12 digits), so reaching the bound means r is broken.
const maxRandomDrawAttempts = 64

// errRandomExhausted is returned when r keeps producing rejected values.
var errRandomExhausted = errors.New("random source produced no usable value")

// randomDigits fills dst (at most 19 bytes) with uniformly random ASCII
// digits. It reads a uint64 and takes it modulo 10^len(dst), rejecting the
// few top values that would make low numbers more likely (modulo bias).
func randomDigits(r io.Reader, dst []byte) error {
	if len(dst) == 0 || len(dst) > 19 {
		return fmt.Errorf("randomDigits: %d digits out of range", len(dst))
	}
	m := uint64(1)
	for range dst {
		m *= 10
	}
	// 2^64 = q*m + rem: accepting only v <= MaxUint64-rem keeps q*m values,
	// each residue exactly q times.
	rem := (math.MaxUint64%m + 1) % m
	limit := uint64(math.MaxUint64) - rem
	var buf [8]byte
	for range maxRandomDrawAttempts {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return fmt.Errorf("reading random source: %w", err)
		}
		v := binary.BigEndian.Uint64(buf[:])
		if v > limit {
			continue
		}
		v %= m
		for i := len(dst) - 1; i >= 0; i-- {
			dst[i] = '0' + byte(v%10)
			v /= 10
		}
		return nil
	}
	return errRandomExhausted
}
