package store

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CredentialsEnv is systemd's variable naming the folder of a service's
// credentials (LoadCredential=, SetCredentialEncrypted=).
const CredentialsEnv = "CREDENTIALS_DIRECTORY"

// SecretSources are the places the PIN secret may come from.
type SecretSources struct {
	Env            string // the value of DIALIN_PIN_SECRET
	File           string // pin_secret_file: a path outside the data folder
	CredentialsDir string // the value of $CREDENTIALS_DIRECTORY
	DataDir        string // data_dir, where pin-secret is by default
}

// SecretInfo says where the secret was found.
type SecretInfo struct {
	Source  string // SecretEnv, or the file's path
	Created bool   // the file was created now, with a new secret
	// BesideDatabase: the secret is in the data folder, so a copy of that
	// folder (a backup) carries both the PIN digests and their key.
	BesideDatabase bool
	// DataCopy: the secret came from elsewhere, but data_dir/pin-secret
	// (the same secret) is still there beside the database.
	DataCopy bool
}

// FindSecret finds the PIN secret, first found: DIALIN_PIN_SECRET; File
// (created with a new secret if neither it nor data_dir/pin-secret
// exists); CredentialsDir/pin-secret if it exists; data_dir/pin-secret
// (created on first start, see LoadSecret). An installation that has only
// data_dir/pin-secret finds it there as it always did.
//
// A secret in File or in the credentials that differs from an existing
// data_dir/pin-secret is refused: the stored PINs were made with one of
// them, and trying the wrong one would fail, and count against, every PIN.
// Errors never contain the secret.
func FindSecret(s SecretSources) ([]byte, SecretInfo, error) {
	if s.Env != "" {
		secret, _, err := LoadSecret("", s.Env)
		return secret, SecretInfo{Source: SecretEnv}, err
	}
	dataPath := ""
	if s.DataDir != "" {
		dataPath = filepath.Join(s.DataDir, SecretFile)
	}
	if s.File != "" {
		return fileSecret(s.File, s.DataDir, dataPath)
	}
	if s.CredentialsDir != "" {
		path := filepath.Join(s.CredentialsDir, SecretFile)
		secret, err := readSecret(path, false)
		if err == nil {
			info := SecretInfo{Source: path}
			info.DataCopy, err = sameAsDataCopy(secret, path, dataPath)
			return secret, info, err
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, SecretInfo{}, err
		}
	}
	secret, created, err := LoadSecret(s.DataDir, "")
	return secret, SecretInfo{Source: dataPath, Created: created, BesideDatabase: true}, err
}

// fileSecret reads pin_secret_file, or creates it on a new installation.
func fileSecret(path, dataDir, dataPath string) ([]byte, SecretInfo, error) {
	info := SecretInfo{Source: path, BesideDatabase: inDir(path, dataDir)}
	secret, err := readSecretFile(path)
	if err == nil {
		if !info.BesideDatabase {
			info.DataCopy, err = sameAsDataCopy(secret, path, dataPath)
		}
		return secret, info, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, SecretInfo{}, err
	}
	if dataPath != "" {
		if _, err := os.Lstat(dataPath); err == nil {
			return nil, SecretInfo{}, fmt.Errorf("PIN secret: pin_secret_file %s does not exist but %s does: "+
				"move that file there (mv %s %s); a new secret would make every stored PIN unverifiable", path, dataPath, dataPath, path)
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, SecretInfo{}, fmt.Errorf("PIN secret: creating the folder of %s: %w", path, err)
	}
	created, err := createSecretFile(dir, path)
	if err != nil {
		return nil, SecretInfo{}, err
	}
	secret, err = readSecretFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, SecretInfo{}, fmt.Errorf("PIN secret: %s: %w", path, err)
	}
	if err != nil {
		return nil, SecretInfo{}, err
	}
	info.Created = created
	return secret, info, nil
}

// sameAsDataCopy reports whether data_dir/pin-secret is still there
// beside the database (with the same secret); a different one is an error,
// and so is one that cannot be compared: told it is a copy to delete, an
// operator might delete the secret the stored PINs were made with. Its
// mode is not checked here: it is compared, not used.
func sameAsDataCopy(secret []byte, path, dataPath string) (bool, error) {
	if dataPath == "" {
		return false, nil
	}
	other, err := readSecret(dataPath, false)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case errors.Is(err, errSecretDamaged):
		return true, fmt.Errorf("PIN secret: %s is used, but %s is still there and holds no valid secret, so it cannot be "+
			"compared with it: delete it if it is an old copy", path, dataPath)
	case err != nil:
		return true, fmt.Errorf("PIN secret: %s is used, but %s is still there and cannot be compared with it (%w): "+
			"delete it if it is an old copy", path, dataPath, err)
	case subtle.ConstantTimeCompare(secret, other) != 1:
		return true, fmt.Errorf("PIN secret: %s and %s hold different secrets; the stored PINs were made with one of them "+
			"(the one the bridge used before, normally %s): keep that one in %s and delete %s", path, dataPath, dataPath, path, dataPath)
	}
	return true, nil
}

// inDir reports whether path lies in folder dir or below it: a copy of
// dir carries it.
func inDir(path, dir string) bool {
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if sameDir(d, dir) {
			return true
		}
		if next := filepath.Dir(d); next == d {
			return false
		}
	}
}

// sameDir reports whether a and b name the same folder.
func sameDir(a, b string) bool {
	if b == "" {
		return false
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}
