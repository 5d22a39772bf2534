package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// Probe writes the one row of the probe table (migration 8): a real write,
// committed with a full fsync like every change, so a read-only or full
// disk fails it.
func (s *DB) Probe(ctx context.Context) error {
	return s.inTx(ctx, "probe write", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO probe (id, at) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at`, time.Now().UnixNano())
		return err
	})
}
