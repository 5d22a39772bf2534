package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

func loadSettings(ctx context.Context, q querier) (store.Settings, error) {
	var raw string
	err := q.QueryRow(ctx, `SELECT value FROM settings WHERE id = 1`).Scan(&raw)
	if noRows(err) {
		return store.DefaultSettings(), nil
	}
	if err != nil {
		return store.Settings{}, fmt.Errorf("postgres: load settings: %w", err)
	}
	// Decode over the defaults, so that a setting added after the row was
	// written gets its default value.
	st := store.DefaultSettings()
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return store.Settings{}, fmt.Errorf("postgres: load settings: %w", err)
	}
	return st, nil
}

// SaveSettings replaces the settings row.
func (s *DB) SaveSettings(ctx context.Context, st store.Settings) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("postgres: save settings: %w", err)
	}
	return s.inTx(ctx, "save settings", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (id, value) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET value = excluded.value`, string(raw))
		if err != nil {
			return err
		}
		return notify(ctx, tx, payloadSettings)
	})
}
