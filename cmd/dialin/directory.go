package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

// openDirectory opens the directory in the data folder: the SQLite
// database and the PIN secret (created on first start, or taken from
// DIALIN_PIN_SECRET). On first start with an empty directory it creates a
// demo organizer and prints its conference ID and PIN, once, to banner.
func openDirectory(ctx context.Context, cfg config.Config, log zerolog.Logger, banner io.Writer) (*store.Directory, error) {
	secret, created, err := store.LoadSecret(cfg.DataDir, os.Getenv("DIALIN_PIN_SECRET"))
	if err != nil {
		return nil, err
	}
	if created {
		log.Info().Str("file", filepath.Join(cfg.DataDir, "pin-secret")).Msg("created the PIN secret: back it up with the database")
	}
	path := filepath.Join(cfg.DataDir, "dialin.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	dir, err := store.Open(ctx, store.Options{Backend: db, Secret: secret, Logger: log.With().Str("component", "directory").Logger()})
	if err != nil {
		db.Close()
		return nil, err
	}
	log.Info().Str("database", path).Int("users", dir.Users()).Msg("directory loaded")
	if dir.Users() == 0 && cfg.DemoOrganizer {
		e, err := dir.EnableUser(ctx, store.EnableRequest{Email: "demo@example.com", DisplayName: "Demo Organizer", Mail: store.MailOptions{Skip: true}})
		if err != nil {
			dir.Close()
			return nil, fmt.Errorf("create the demo organizer: %w", err)
		}
		// The one time this PIN is shown: on the terminal, never in the log.
		fmt.Fprintf(banner, "\n  Demo organizer created (shown once):\n    conference ID: %s\n    PIN:           %s\n\n",
			e.User.ConferenceID, e.PIN)
	}
	return dir, nil
}
