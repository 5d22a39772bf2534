// Package token finds the administrators' API token: in the configuration,
// the environment, or the file in the data folder that the bridge creates
// on first start; the dialin commands read it the same way.
package token

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dialin/dialin/config"

	"github.com/dialin/dialin/internal/secretfile"
)

// File is the name of the generated token's file in the data folder.
const File = "admin-token"

// Env is the environment variable that may carry the token.
const Env = "DIALIN_ADMIN_TOKEN"

// minTokenLength is config's rule for admin.token, applied to every source.
const minTokenLength = 16

// maxTokenFileSize bounds what is read of the token file; ours is 65 bytes.
const maxTokenFileSize = 4096

// LoadOrCreate returns the API token for `dialin serve`: cfg.Token,
// else envToken (the value of DIALIN_ADMIN_TOKEN), else the file
// <dataDir>/admin-token, created with 32 random bytes (hex) on first start.
// source says where it came from, for the log; created is true when the
// file was just written. Errors never contain the token.
func LoadOrCreate(cfg config.Admin, envToken, dataDir string) (token, source string, created bool, err error) {
	token, source, err = Read(cfg, envToken, dataDir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || dataDir == "" {
		return token, source, false, err
	}
	path := filepath.Join(dataDir, File)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", "", false, fmt.Errorf("admin token: creating data folder: %w", err)
	}
	created, err = createTokenFile(dataDir, path)
	if err != nil {
		return "", "", false, err
	}
	// Read back what is on disk: if another process created the file
	// first, its token is the one to use.
	token, err = readTokenFile(path, generatedHint)
	if errors.Is(err, fs.ErrNotExist) { // e.g. a dangling symlink
		return "", "", false, fmt.Errorf("admin token: %s: %w", path, err)
	}
	if err != nil {
		return "", "", false, err
	}
	return token, path, created, nil
}

// Read returns the token as LoadOrCreate does, for the dialin
// subcommands: it never creates the file. A missing file is an error that
// matches fs.ErrNotExist and says how to get a token.
func Read(cfg config.Admin, envToken, dataDir string) (token, source string, err error) {
	if cfg.Token != "" {
		if err := checkToken(cfg.Token); err != nil {
			return "", "", fmt.Errorf("admin token: config admin.token %w", err)
		}
		return cfg.Token, "config admin.token", nil
	}
	if t := strings.TrimSpace(envToken); t != "" {
		if err := checkToken(t); err != nil {
			return "", "", fmt.Errorf("admin token: %s %w", Env, err)
		}
		return t, Env, nil
	}
	if dataDir == "" {
		return "", "", fmt.Errorf("admin token: set admin.token in the config or %s (no data folder to read %s from): %w",
			Env, File, fs.ErrNotExist)
	}
	path := filepath.Join(dataDir, File)
	token, err = readTokenFile(path, generatedHint)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("admin token: %s does not exist: start `dialin serve` once with this data folder to create it, "+
			"or set admin.token in the config or %s: %w", path, Env, fs.ErrNotExist)
	}
	if err != nil {
		return "", "", err
	}
	return token, path, nil
}

// checkToken applies config's rules; the error completes "<source> ...".
func checkToken(t string) error {
	if len(t) < minTokenLength {
		return fmt.Errorf("is %d characters; use at least %d", len(t), minTokenLength)
	}
	if strings.IndexFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return errors.New("contains a space or control character")
	}
	return nil
}

// generatedHint ends the error about a bad generated token file.
const generatedHint = " (delete it to have a new one generated)"

// readTokenFile reads and checks a token file; hint ends the error about a
// bad token. As for the PIN secret, a file group or others can read is
// refused: the token is full administrator access. The mode is checked on
// the open file.
func readTokenFile(path, hint string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("admin token: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("admin token: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("admin token: %s has mode %04o, so group or others can read it: run `chmod 600 %s`", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileSize+1))
	if err != nil {
		return "", fmt.Errorf("admin token: reading %s: %w", path, err)
	}
	if len(data) > maxTokenFileSize {
		return "", fmt.Errorf("admin token: %s is larger than %d bytes", path, maxTokenFileSize)
	}
	token := strings.TrimSpace(string(data))
	if err := checkToken(token); err != nil {
		return "", fmt.Errorf("admin token: %s %w%s", path, err, hint)
	}
	return token, nil
}

// createTokenFile writes a new random token to path (secretfile.Create:
// atomic, never replacing a file another process created meanwhile, in
// which case created is false).
func createTokenFile(dir, path string) (created bool, err error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return false, fmt.Errorf("admin token: %w", err)
	}
	created, err = secretfile.Create(dir, filepath.Base(path), []byte(hex.EncodeToString(raw[:])+"\n"))
	if err != nil {
		return false, fmt.Errorf("admin token: %w", err)
	}
	return created, nil
}
