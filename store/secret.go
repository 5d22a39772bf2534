package store

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dialin/dialin/internal/secretfile"
)

// SecretEnv is the environment variable that may carry the server secret.
const SecretEnv = "DIALIN_PIN_SECRET"

// SecretFile is the name of the secret's file in the data folder.
const SecretFile = "pin-secret"

// maxSecretFileSize bounds what LoadSecret reads: the file holds 64 hex
// characters; anything this large is not a secret we wrote.
const maxSecretFileSize = 4096

// LoadSecret returns the server secret that keys the PIN digests. It is kept
// outside the database so that a copy of the database alone does not allow
// brute-forcing PINs offline.
//
// If fromEnv is not empty (the value of DIALIN_PIN_SECRET), it is decoded as
// hex or base64 (standard or URL alphabet, padded or not) and must be at
// least 32 bytes; no file is read or written. Otherwise the secret is the
// file <dataDir>/pin-secret: created on first start (created is true) with
// 32 random bytes, hex-encoded, mode 0600; read on later starts. A file that
// group or others may access is refused, and a damaged file is reported,
// never replaced: a new secret would make every stored PIN unverifiable.
//
// Switching between the file and the environment changes the secret unless
// both hold the same value. Errors never contain the secret.
func LoadSecret(dataDir string, fromEnv string) (secret []byte, created bool, err error) {
	if fromEnv != "" {
		secret, err = decodeSecret(fromEnv)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", SecretEnv, err)
		}
		return secret, false, nil
	}
	if dataDir == "" {
		return nil, false, fmt.Errorf("PIN secret: no data folder given and %s is not set", SecretEnv)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("PIN secret: creating data folder: %w", err)
	}
	path := filepath.Join(dataDir, SecretFile)
	secret, err = readSecretFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return secret, false, err
	}
	created, err = createSecretFile(dataDir, path)
	if err != nil {
		return nil, false, err
	}
	// Read back what is on disk: if another process created the file first,
	// its secret is the one to use.
	secret, err = readSecretFile(path)
	if errors.Is(err, fs.ErrNotExist) { // e.g. a dangling symlink
		return nil, false, fmt.Errorf("PIN secret: %s: %w", path, err)
	}
	if err != nil {
		return nil, false, err
	}
	return secret, created, nil
}

// decodeSecret decodes a secret written as hex or base64. Hex is tried
// first, so the same text always decodes to the same secret.
func decodeSecret(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	secret, err := hex.DecodeString(text)
	if err != nil {
		secret = nil
		for _, enc := range []*base64.Encoding{
			base64.StdEncoding, base64.RawStdEncoding,
			base64.URLEncoding, base64.RawURLEncoding,
		} {
			if b, err := enc.DecodeString(text); err == nil {
				secret = b
				break
			}
		}
		if secret == nil {
			// The decoder's error would quote the offending character.
			return nil, errors.New("not valid hex or base64")
		}
	}
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("decodes to %d bytes; the PIN secret must be at least %d bytes (e.g. `openssl rand -hex 32`)",
			len(secret), MinSecretLength)
	}
	return secret, nil
}

// readSecretFile reads and checks an existing secret file. The mode is
// checked on the open file, so it is the same file that is read.
func readSecretFile(path string) ([]byte, error) { return readSecret(path, true) }

// readSecret is readSecretFile; checkMode false skips the mode check, for
// systemd's credentials, whose access systemd restricts (with an ACL that
// shows as group bits).
func readSecret(path string, checkMode bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("PIN secret: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("PIN secret: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("PIN secret: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); checkMode && perm&0o077 != 0 {
		return nil, fmt.Errorf("PIN secret: %s has mode %04o, so group or others can read it: run `chmod 600 %s` "+
			"(a leaked secret lets anyone with a copy of the database brute-force the stored PIN digests offline)",
			path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("PIN secret: reading %s: %w", path, err)
	}
	if len(data) > maxSecretFileSize {
		return nil, damagedSecret(path, fmt.Errorf("larger than %d bytes", maxSecretFileSize))
	}
	secret, err := decodeSecret(string(data))
	if err != nil {
		return nil, damagedSecret(path, err)
	}
	return secret, nil
}

// errSecretDamaged marks a secret file that holds no valid secret.
var errSecretDamaged = errors.New("damaged")

func damagedSecret(path string, err error) error {
	return fmt.Errorf("PIN secret: %s is %w (%v); restore it from a backup. "+
		"It is not replaced automatically because a new secret would make every stored PIN unverifiable "+
		"(each user would need a PIN reset)", path, errSecretDamaged, err)
}

// createSecretFile writes a new random secret to path, atomically: the
// content goes to a temporary file that is synced and then linked to path.
// A link, unlike a rename, never replaces a file another process created in
// the meantime; created is false in that case.
func createSecretFile(dir, path string) (created bool, err error) {
	var raw [MinSecretLength]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return false, fmt.Errorf("PIN secret: %w", err)
	}
	created, err = secretfile.Create(dir, filepath.Base(path), []byte(hex.EncodeToString(raw[:])+"\n"))
	if err != nil {
		return false, fmt.Errorf("PIN secret: %w", err)
	}
	return created, nil
}
