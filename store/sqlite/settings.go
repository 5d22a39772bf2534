package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dialin/dialin/store"
)

func loadSettings(ctx context.Context, tx *sql.Tx) (store.Settings, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE id = 1`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DefaultSettings(), nil
	}
	if err != nil {
		return store.Settings{}, fmt.Errorf("sqlite: load settings: %w", err)
	}
	// Decode over the defaults, so that a setting added after the row was
	// written gets its default value.
	st := store.DefaultSettings()
	if err := json.Unmarshal(raw, &st); err != nil {
		return store.Settings{}, fmt.Errorf("sqlite: load settings: %w", err)
	}
	return st, nil
}

// SaveSettings replaces the settings row.
func (s *DB) SaveSettings(ctx context.Context, st store.Settings) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("sqlite: save settings: %w", err)
	}
	return s.inTx(ctx, "save settings", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (id, value) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET value = excluded.value`, string(raw))
		return err
	})
}
