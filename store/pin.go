package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PINRules is the effective PIN policy for one user: the organisation's
// settings with the user's PINPolicy override applied.
type PINRules struct {
	// Length is the length of generated PINs and the minimum length of a
	// PIN set by hand (like Skype for Business Server's MinPasswordLength,
	// it is a minimum: a hand-set PIN may be longer, up to MaxPINLength).
	Length int
	// BlockCommon refuses all-one-digit PINs, runs of 4 or more ascending or
	// descending digits, and PINs that contain, or are part of, ConferenceID.
	BlockCommon bool
	// ConferenceID is the user's static conference ID; "" (dynamic mode)
	// skips the conference ID rule.
	ConferenceID string
}

// minSequenceRun is the shortest run of consecutive digits that BlockCommon
// refuses (1234, 4321).
const minSequenceRun = 4

// CheckPIN checks a PIN set by hand against rules. It returns nil or a
// *PolicyError naming the first rule broken, in this order: "digits",
// "length", then with BlockCommon "repeated", "sequence", "conference_id".
// Messages are for an administrator and never contain the PIN.
//
// rules.Length outside MinPINLength..MaxPINLength is clamped into it, so a
// PIN shorter than 4 digits is never accepted.
//
// Sequences do not wrap around: 9 is not followed by 0, so 7890 and 8901
// are allowed, but 901234 is refused (it contains 1234).
func CheckPIN(pin string, rules PINRules) error {
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return &PolicyError{Rule: "digits", Msg: "PIN must contain only the digits 0 to 9"}
		}
	}
	minLen := min(max(rules.Length, MinPINLength), MaxPINLength)
	if len(pin) < minLen || len(pin) > MaxPINLength {
		msg := fmt.Sprintf("PIN must have %d to %d digits", minLen, MaxPINLength)
		if minLen == MaxPINLength {
			msg = fmt.Sprintf("PIN must have %d digits", MaxPINLength)
		}
		return &PolicyError{Rule: "length", Msg: msg}
	}
	if !rules.BlockCommon {
		return nil
	}
	if strings.Count(pin, pin[:1]) == len(pin) {
		// The examples are spelled with dashes so that no message contains
		// a PIN an administrator tried: tests grep logs for refused PINs too.
		return &PolicyError{Rule: "repeated", Msg: "PIN must not be one digit repeated, like 1-1-1-1"}
	}
	if hasSequence(pin) {
		return &PolicyError{Rule: "sequence", Msg: "PIN must not contain 4 or more consecutive ascending or descending digits, like 1-2-3-4 or 9-8-7-6"}
	}
	if id := rules.ConferenceID; len(id) >= MinPINLength && (strings.Contains(pin, id) || strings.Contains(id, pin)) {
		return &PolicyError{Rule: "conference_id", Msg: "PIN must not contain the user's conference ID or be part of it"}
	}
	return nil
}

// hasSequence reports whether digits contains a run of minSequenceRun or
// more consecutive ascending (0123) or descending (3210) digits, no wrap.
func hasSequence(digits string) bool {
	up, down := 1, 1 // length of the runs ending at i
	for i := 1; i < len(digits); i++ {
		d := int(digits[i]) - int(digits[i-1])
		if d == 1 {
			up++
		} else {
			up = 1
		}
		if d == -1 {
			down++
		} else {
			down = 1
		}
		if up >= minSequenceRun || down >= minSequenceRun {
			return true
		}
	}
	return false
}

// maxPINAttempts bounds GeneratePIN's retries. The blocked patterns are at
// most about 0.3% of 4-digit PINs, so reaching the bound means r is broken.
const maxPINAttempts = 100

// GeneratePIN returns a PIN of rules.Length uniformly random digits read from
// r (crypto/rand.Reader in production) that passes CheckPIN with rules.
func GeneratePIN(r io.Reader, rules PINRules) (string, error) {
	if rules.Length < MinPINLength || rules.Length > MaxPINLength {
		return "", fmt.Errorf("%w: PIN length %d is not between %d and %d",
			ErrInvalidInput, rules.Length, MinPINLength, MaxPINLength)
	}
	var buf [MaxPINLength]byte
	digits := buf[:rules.Length]
	for range maxPINAttempts {
		if err := randomDigits(r, digits); err != nil {
			return "", fmt.Errorf("generate PIN: %w", err)
		}
		pin := string(digits)
		if CheckPIN(pin, rules) == nil {
			return pin, nil
		}
	}
	return "", errors.New("generate PIN: no PIN passed the policy; is the random source broken?")
}

// PINHasher computes the keyed digest under which PINs are stored:
// HMAC-SHA256(server secret, PIN). Without the secret, which is kept outside
// the database, a stolen database does not allow brute-forcing PINs offline.
//
// crypto/hmac allocates, and PIN verification is on the call path, so the
// HMAC is computed here from the key's precomputed inner and outer pad
// blocks with sha256.Sum256 over stack buffers: no allocation.
type PINHasher struct {
	ipad, opad [sha256.BlockSize]byte // key XOR 0x36, key XOR 0x5c
	keyed      bool                   // made by NewPINHasher
	key        []byte                 // for inputs too long for the stack path
}

// MinSecretLength is the minimum length of the server secret in bytes.
const MinSecretLength = 32

// NewPINHasher returns a hasher keyed with secret, which must be at least
// MinSecretLength bytes. The secret is copied.
func NewPINHasher(secret []byte) (*PINHasher, error) {
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("PIN secret is %d bytes; it must be at least %d", len(secret), MinSecretLength)
	}
	h := &PINHasher{keyed: true, key: append([]byte(nil), secret...)}
	// HMAC (RFC 2104): a key longer than the block is hashed first, then
	// zero-padded to the block size.
	var block [sha256.BlockSize]byte
	if len(secret) > sha256.BlockSize {
		sum := sha256.Sum256(secret)
		copy(block[:], sum[:])
	} else {
		copy(block[:], secret)
	}
	for i, b := range block {
		h.ipad[i] = b ^ 0x36
		h.opad[i] = b ^ 0x5c
	}
	return h, nil
}

// Digest returns HMAC-SHA256(secret, pin). For a pin of at most MaxPINLength
// bytes it allocates nothing; longer inputs (never a valid PIN) take
// crypto/hmac's allocating path.
func (h *PINHasher) Digest(pin string) [sha256.Size]byte {
	if !h.keyed {
		// A zero PINHasher would silently use an empty key.
		panic("store: PINHasher not made by NewPINHasher")
	}
	if len(pin) > MaxPINLength {
		mac := hmac.New(sha256.New, h.key)
		mac.Write([]byte(pin))
		var out [sha256.Size]byte
		mac.Sum(out[:0])
		return out
	}
	var inner [sha256.BlockSize + MaxPINLength]byte
	copy(inner[:], h.ipad[:])
	n := sha256.BlockSize + copy(inner[sha256.BlockSize:], pin)
	innerSum := sha256.Sum256(inner[:n])

	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], h.opad[:])
	copy(outer[sha256.BlockSize:], innerSum[:])
	return sha256.Sum256(outer[:])
}

// Match reports, in constant time, whether pin's digest is *digest. A pin
// longer than MaxPINLength is false without hashing it, so a caller cannot
// make verification do unbounded work. It allocates nothing.
func (h *PINHasher) Match(digest *[sha256.Size]byte, pin string) bool {
	if digest == nil || len(pin) > MaxPINLength {
		return false
	}
	got := h.Digest(pin)
	return subtle.ConstantTimeCompare(got[:], digest[:]) == 1
}

// String keeps the key (and the pads derived from it) out of logs; a value
// receiver so that both PINHasher and *PINHasher print this.
func (PINHasher) String() string { return "store.PINHasher{secret hidden}" }

// GoString keeps the key out of %#v.
func (PINHasher) GoString() string { return "store.PINHasher{secret hidden}" }
