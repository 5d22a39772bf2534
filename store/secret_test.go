package store

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSecretFromEnv(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 11) // 33 bytes; base64 has + / - _
	for name, text := range map[string]string{
		"hex":            hex.EncodeToString(raw),
		"hex upper":      strings.ToUpper(hex.EncodeToString(raw)),
		"hex newline":    hex.EncodeToString(raw) + "\n",
		"base64 std":     base64.StdEncoding.EncodeToString(raw),
		"base64 raw std": base64.RawStdEncoding.EncodeToString(raw[:32]),
		"base64 url":     base64.URLEncoding.EncodeToString(raw),
		"base64 raw url": base64.RawURLEncoding.EncodeToString(raw[:32]),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			got, created, err := LoadSecret(dir, text)
			if err != nil {
				t.Fatal(err)
			}
			if created {
				t.Error("created from the environment")
			}
			if !bytes.Equal(got, raw[:len(got)]) || len(got) < 32 {
				t.Errorf("got %x", got)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Error("the environment path touched the data folder")
			}
		})
	}
}

func TestSecretFromEnvRefused(t *testing.T) {
	for name, text := range map[string]string{
		"short hex":    hex.EncodeToString(make([]byte, 31)),
		"short base64": base64.StdEncoding.EncodeToString([]byte("sixteen byte key")),
		"garbage":      "correct horse battery staple!!",
		"spaces only":  "   ",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := LoadSecret(t.TempDir(), text)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "DIALIN_PIN_SECRET") {
				t.Errorf("error does not name DIALIN_PIN_SECRET: %v", err)
			}
			if strings.TrimSpace(text) != "" && strings.Contains(err.Error(), strings.TrimSpace(text)) {
				t.Errorf("error shows the value: %v", err)
			}
			for _, word := range strings.Fields(text) {
				if len(word) > 3 && strings.Contains(err.Error(), word) {
					t.Errorf("error shows part of the value: %v", err)
				}
			}
		})
	}
}

func TestSecretFileCreatedThenRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "data") // created with its parents
	s1, created, err := LoadSecret(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(s1) != 32 {
		t.Fatalf("created=%v, %d bytes", created, len(s1))
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("data folder mode %04o, want 0700", perm)
	}
	path := filepath.Join(dir, "pin-secret")
	fi, err = os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("secret mode %04o, want 0600", perm)
	}
	data, _ := os.ReadFile(path)
	if want := hex.EncodeToString(s1) + "\n"; string(data) != want {
		t.Errorf("file holds %q, want the hex secret", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data folder holds %d entries (temporary file left?)", len(entries))
	}

	s2, created, err := LoadSecret(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(s1, s2) {
		t.Fatalf("second start: created=%v, same=%v", created, bytes.Equal(s1, s2))
	}
	if _, err := NewPINHasher(s2); err != nil {
		t.Fatal(err)
	}
}

func TestSecretEnvWinsOverFile(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadSecret(dir, ""); err != nil {
		t.Fatal(err)
	}
	env := hex.EncodeToString(bytes.Repeat([]byte{9}, 32))
	got, created, err := LoadSecret(dir, env)
	if err != nil || created || !bytes.Equal(got, bytes.Repeat([]byte{9}, 32)) {
		t.Fatalf("got %x, %v, %v", got, created, err)
	}
}

func TestSecretFileOpenModeRefused(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadSecret(dir, ""); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pin-secret")
	before, _ := os.ReadFile(path)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadSecret(dir, "")
		if err == nil {
			t.Fatalf("mode %04o accepted", mode)
		}
		if !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("error does not say chmod 600: %v", err)
		}
		if strings.Contains(err.Error(), strings.TrimSpace(string(before))) {
			t.Errorf("error shows the secret: %v", err)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("file changed")
	}
	if err := os.Chmod(path, 0o400); err != nil { // read-only for the owner is fine
		t.Fatal(err)
	}
	if _, _, err := LoadSecret(dir, ""); err != nil {
		t.Fatalf("mode 0400: %v", err)
	}
}

func TestSecretFileDamagedNeverOverwritten(t *testing.T) {
	for name, content := range map[string]string{
		"empty":     "",
		"short hex": hex.EncodeToString(make([]byte, 16)) + "\n",
		"not hex":   "this is not a secret at all, not even base64!\n",
		"huge":      strings.Repeat("ab", 5000),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "pin-secret")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadSecret(dir, "")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range []string{path, "unverifiable", "backup"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			after, _ := os.ReadFile(path)
			if string(after) != content {
				t.Error("damaged file was changed")
			}
		})
	}
}

func TestSecretFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "pin-secret"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadSecret(dir, ""); err == nil {
		t.Fatal("a directory was accepted as the secret")
	}
}

func TestSecretNoDataDir(t *testing.T) {
	_, _, err := LoadSecret("", "")
	if err == nil || !strings.Contains(err.Error(), "DIALIN_PIN_SECRET") {
		t.Fatalf("err = %v", err)
	}
}

// Several processes starting at once on an empty folder must end up with
// one secret: the file is linked into place, never renamed over another.
func TestSecretConcurrentFirstStart(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	secrets := make([][]byte, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			secrets[i], created[i], err = LoadSecret(dir, "")
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if !bytes.Equal(secrets[i], secrets[0]) {
			t.Fatalf("start %d got a different secret", i)
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Errorf("%d starts report creating the secret, want 1", creators)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data folder holds %d entries", len(entries))
	}
}

func TestSecretDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "pin-secret")); err != nil {
		t.Skip(err)
	}
	_, _, err := LoadSecret(dir, "")
	if err == nil || !strings.Contains(err.Error(), "pin-secret") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Error("secret written through the symlink")
	}
}
