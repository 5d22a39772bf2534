package token

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialin/dialin/config"
)

func TestLoadOrCreateTokenCreatesFileOnce(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data") // does not exist yet
	token, source, created, err := LoadOrCreate(config.Admin{}, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dataDir, File)
	if !created || source != path {
		t.Fatalf("created %v, source %q", created, source)
	}
	if raw, err := hex.DecodeString(token); err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 bytes in hex", token)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, err := os.Stat(dataDir); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("data folder: %v %v", di.Mode(), err)
	}
	entries, _ := os.ReadDir(dataDir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}

	again, source2, created2, err := LoadOrCreate(config.Admin{}, "", dataDir)
	if err != nil || again != token || created2 || source2 != path {
		t.Fatalf("second start: %q %q %v %v", again, source2, created2, err)
	}
	read, source3, err := Read(config.Admin{}, "", dataDir)
	if err != nil || read != token || source3 != path {
		t.Fatalf("Read: %q %q %v", read, source3, err)
	}
}

func TestTokenSources(t *testing.T) {
	dataDir := t.TempDir()
	cfgToken := "config-token-0123456789"
	envToken := "env-token-0123456789"

	token, source, created, err := LoadOrCreate(config.Admin{Token: cfgToken}, envToken, dataDir)
	if err != nil || token != cfgToken || source != "config admin.token" || created {
		t.Fatalf("config token: %q %q %v %v", token, source, created, err)
	}
	token, source, created, err = LoadOrCreate(config.Admin{}, envToken, dataDir)
	if err != nil || token != envToken || source != "DIALIN_ADMIN_TOKEN" || created {
		t.Fatalf("env token: %q %q %v %v", token, source, created, err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, File)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a token file was created although a token was given: %v", err)
	}
	token, source, err = Read(config.Admin{Token: cfgToken}, envToken, dataDir)
	if err != nil || token != cfgToken || source != "config admin.token" {
		t.Fatalf("Read config: %q %q %v", token, source, err)
	}
	token, source, err = Read(config.Admin{}, envToken, dataDir)
	if err != nil || token != envToken || source != "DIALIN_ADMIN_TOKEN" {
		t.Fatalf("Read env: %q %q %v", token, source, err)
	}

	// A short token is refused without being quoted.
	_, _, _, err = LoadOrCreate(config.Admin{}, "short", dataDir)
	if err == nil || !strings.Contains(err.Error(), "DIALIN_ADMIN_TOKEN") || strings.Contains(err.Error(), "short") {
		t.Fatalf("short env token: %v", err)
	}
}

func TestReadTokenMissingFile(t *testing.T) {
	dataDir := t.TempDir()
	_, _, err := Read(config.Admin{}, "", dataDir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	for _, hint := range []string{filepath.Join(dataDir, File), "dialin serve", "DIALIN_ADMIN_TOKEN", "admin.token"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q does not mention %q", err, hint)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, File)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Read created the file")
	}
	if _, _, err := Read(config.Admin{}, "", ""); err == nil {
		t.Fatal("no data folder and no token: no error")
	}
}

func TestTokenFileChecks(t *testing.T) {
	dataDir := t.TempDir()
	path := filepath.Join(dataDir, File)
	if err := os.WriteFile(path, []byte("0123456789abcdef0123\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Read(config.Admin{}, "", dataDir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable token file: %v", err)
	}
	if _, _, _, err := LoadOrCreate(config.Admin{}, "", dataDir); err == nil {
		t.Fatal("LoadOrCreate accepted a world-readable file")
	}
	os.Chmod(path, 0o600)
	if token, _, err := Read(config.Admin{}, "", dataDir); err != nil || token != "0123456789abcdef0123" {
		t.Fatalf("hand-written token file: %q %v", token, err)
	}
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := LoadOrCreate(config.Admin{}, "", dataDir); err == nil {
		t.Fatal("empty token file accepted (or replaced)")
	}
}
