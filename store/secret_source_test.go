package store

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSecret(t *testing.T, path string, b byte) []byte {
	t.Helper()
	raw := bytes.Repeat([]byte{b}, 32)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(raw)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return raw
}

// An installation with data/pin-secret finds it there as before, and is
// told it sits beside the database.
func TestFindSecretExistingDataFolder(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	want := writeSecret(t, filepath.Join(data, SecretFile), 7)
	// A systemd service with other credentials but no pin-secret: unchanged.
	got, info, err := FindSecret(SecretSources{DataDir: data, CredentialsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || info.Created || !info.BesideDatabase || info.Source != filepath.Join(data, SecretFile) {
		t.Fatalf("got %x, %+v", got, info)
	}
}

func TestFindSecretNewInstallations(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// Default: created in the data folder.
	s1, info, err := FindSecret(SecretSources{DataDir: data})
	if err != nil || !info.Created || !info.BesideDatabase || len(s1) != 32 {
		t.Fatalf("%+v %v", info, err)
	}
	// pin_secret_file on a new installation: created there, not beside.
	dir2 := t.TempDir()
	file := filepath.Join(dir2, "etc", "pin-secret")
	s2, info, err := FindSecret(SecretSources{File: file, DataDir: filepath.Join(dir2, "data")})
	if err != nil || !info.Created || info.BesideDatabase || info.Source != file {
		t.Fatalf("%+v %v", info, err)
	}
	again, info, err := FindSecret(SecretSources{File: file, DataDir: filepath.Join(dir2, "data")})
	if err != nil || info.Created || !bytes.Equal(again, s2) {
		t.Fatalf("second start: %+v %v", info, err)
	}
	if _, err := os.Stat(filepath.Join(dir2, "data", SecretFile)); !os.IsNotExist(err) {
		t.Fatal("a secret was written into the data folder")
	}
	// pin_secret_file inside the data folder is beside the database.
	_, info, err = FindSecret(SecretSources{File: filepath.Join(data, "other-secret"), DataDir: data})
	if err == nil {
		t.Fatal("a new pin_secret_file was created although data/pin-secret exists")
	}
	if err := os.Rename(filepath.Join(data, SecretFile), filepath.Join(data, "other-secret")); err != nil {
		t.Fatal(err)
	}
	_, info, err = FindSecret(SecretSources{File: filepath.Join(data, "other-secret"), DataDir: data})
	if err != nil || !info.BesideDatabase {
		t.Fatalf("%+v %v", info, err)
	}
}

// Moving an existing secret: pin_secret_file set but the file not moved
// yet is refused (a new secret would lose every PIN); moved, it is used;
// a copy left behind is reported; a different one is refused.
func TestFindSecretMoved(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dataPath := filepath.Join(data, SecretFile)
	want := writeSecret(t, dataPath, 9)
	file := filepath.Join(dir, "etc", "pin-secret")
	_, _, err := FindSecret(SecretSources{File: file, DataDir: data})
	if err == nil || !strings.Contains(err.Error(), "mv "+dataPath+" "+file) {
		t.Fatalf("error %v, want the mv to do", err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatal("a new secret was created")
	}
	writeSecret(t, file, 9) // copied, the original left behind
	got, info, err := FindSecret(SecretSources{File: file, DataDir: data})
	if err != nil || !bytes.Equal(got, want) || info.BesideDatabase || !info.DataCopy {
		t.Fatalf("copied: %+v %v", info, err)
	}
	if err := os.Remove(dataPath); err != nil {
		t.Fatal(err)
	}
	if _, info, err = FindSecret(SecretSources{File: file, DataDir: data}); err != nil || info.DataCopy {
		t.Fatalf("moved: %+v %v", info, err)
	}
	writeSecret(t, dataPath, 1) // a different secret beside the database
	_, _, err = FindSecret(SecretSources{File: file, DataDir: data})
	if err == nil || !strings.Contains(err.Error(), "different secrets") || strings.Contains(err.Error(), hex.EncodeToString(want)) {
		t.Fatalf("error %v", err)
	}
}

func TestFindSecretCredentialsAndEnv(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	creds := filepath.Join(dir, "creds")
	want := writeSecret(t, filepath.Join(creds, SecretFile), 3)
	got, info, err := FindSecret(SecretSources{CredentialsDir: creds, DataDir: data})
	if err != nil || !bytes.Equal(got, want) || info.BesideDatabase || info.Created {
		t.Fatalf("%+v %v", info, err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatal("the credential path touched the data folder")
	}
	env := hex.EncodeToString(bytes.Repeat([]byte{5}, 32))
	got, info, err = FindSecret(SecretSources{Env: env, File: filepath.Join(dir, "f"), CredentialsDir: creds, DataDir: data})
	if err != nil || got[0] != 5 || info.Source != SecretEnv {
		t.Fatalf("env: %+v %v", info, err)
	}
	// systemd restricts a credential with an ACL, whose mask shows as group
	// bits: not refused (a pin_secret_file with such bits is).
	if err := os.Chmod(filepath.Join(creds, SecretFile), 0o440); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FindSecret(SecretSources{CredentialsDir: creds, DataDir: data}); err != nil {
		t.Fatalf("credential with ACL mask bits: %v", err)
	}
	file := filepath.Join(dir, "etc", "pin-secret")
	writeSecret(t, file, 4)
	if err := os.Chmod(file, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FindSecret(SecretSources{File: file, DataDir: data}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("error %v", err)
	}
}

// A copy left in the data folder is compared whatever its mode, and one
// that cannot be compared is refused, not reported as a copy to delete
// (it may be the secret the stored PINs were made with).
func TestFindSecretDataCopyNotComparable(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dataPath := filepath.Join(data, SecretFile)
	file := filepath.Join(dir, "etc", "pin-secret")
	writeSecret(t, file, 4)
	writeSecret(t, dataPath, 1) // different, and readable by the group
	if err := os.Chmod(dataPath, 0o640); err != nil {
		t.Fatal(err)
	}
	_, _, err := FindSecret(SecretSources{File: file, DataDir: data})
	if err == nil || !strings.Contains(err.Error(), "different secrets") {
		t.Fatalf("a different secret in the data folder with mode 0640: error %v", err)
	}
	if err := os.WriteFile(dataPath, []byte("not a secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = FindSecret(SecretSources{File: file, DataDir: data})
	if err == nil || !strings.Contains(err.Error(), "cannot be compared") || !strings.Contains(err.Error(), dataPath) {
		t.Fatalf("a damaged secret in the data folder: error %v", err)
	}
}

// pin_secret_file in a folder below data_dir is in every copy of it.
func TestFindSecretFileBelowDataFolder(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	file := filepath.Join(data, "secrets", "pin-secret")
	_, info, err := FindSecret(SecretSources{File: file, DataDir: data})
	if err != nil || !info.Created || !info.BesideDatabase {
		t.Fatalf("%+v %v", info, err)
	}
}
