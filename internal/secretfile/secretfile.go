// Package secretfile creates small secret files (the PIN secret, the admin
// token) so that a crash or a second process never leaves a half-written or
// replaced one.
package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Create writes content to dir/name with mode 0600, atomically: the content
// goes to a temporary file that is synced and then linked to the name. A
// link, unlike a rename, never replaces a file another process created in
// the meantime; created is false in that case and the other file stands.
func Create(dir, name string, content []byte) (created bool, err error) {
	path := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, "."+name+".tmp*") // mode 0600
	if err != nil {
		return false, err
	}
	tmpPath := tmp.Name()
	defer os.Remove(tmpPath) // after the link, path keeps the content
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Chmod(0o600) // CreateTemp's mode today; be explicit
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", tmpPath, err)
	}
	if err := os.Link(tmpPath, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil // another process won; use its file
		}
		// Some filesystems have no hard links; rename is atomic too.
		if rerr := os.Rename(tmpPath, path); rerr != nil {
			return false, fmt.Errorf("creating %s: %w", path, rerr)
		}
	}
	if err := syncDir(dir); err != nil {
		return false, err
	}
	return true, nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
