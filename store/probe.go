package store

import (
	"context"
	"fmt"
)

// ProbeBackend is the readiness check's part of the Backend.
type ProbeBackend interface {
	// Probe makes one real write (a scratch row, in a transaction that
	// commits to disk) and reports whether it took: a database that reads
	// but cannot write (a read-only file or disk, a full disk) fails it.
	Probe(ctx context.Context) error
}

// Probe checks that the directory's database takes writes, as every
// change needs; serialised with the writes like any other.
func (d *Directory) Probe(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.backend.Probe(ctx); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}
