package token

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadCredential: the systemd credential admin-token is read (mode
// 0400, as systemd makes it); no folder or no file is not an error.
func TestReadCredential(t *testing.T) {
	if _, ok, err := ReadCredential(""); ok || err != nil {
		t.Fatalf("no credentials folder: %v %v", ok, err)
	}
	dir := t.TempDir()
	if _, ok, err := ReadCredential(dir); ok || err != nil {
		t.Fatalf("no credential: %v %v", ok, err)
	}
	want := strings.Repeat("c", 32)
	if err := os.WriteFile(filepath.Join(dir, File), []byte(want+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ReadCredential(dir)
	if err != nil || !ok || got != want {
		t.Fatalf("ReadCredential = %q, %v, %v", got, ok, err)
	}
}
