package token

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// ReadCredential reads the token from the systemd credential admin-token
// (LoadCredential=admin-token:/etc/dialin/admin-token): credDir is
// $CREDENTIALS_DIRECTORY, "" when not run by systemd with credentials. ok
// is false when there is no such credential. Errors never hold the token.
func ReadCredential(credDir string) (token string, ok bool, err error) {
	if credDir == "" {
		return "", false, nil
	}
	path := filepath.Join(credDir, File)
	t, err := readTokenFile(path, "")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("admin token: systemd credential: %w", err)
	}
	return t, true, nil
}
