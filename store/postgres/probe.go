package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Probe writes the one row of the probe table (migration 8): a real write,
// committed like every change (with the server's synchronous_commit), so a
// server that is read-only (a standby, a full disk) fails it.
func (s *DB) Probe(ctx context.Context) error {
	return s.inTx(ctx, "probe write", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO probe (id, at) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at`, time.Now().UnixNano())
		return err
	})
}
