package main

import (
	"os"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/store"
)

// loadPINSecret finds the PIN secret (DIALIN_PIN_SECRET, pin_secret_file,
// the systemd credential pin-secret, data_dir/pin-secret: store.FindSecret)
// and warns, in one line, when it sits beside the database: with the
// sqlite store only, whose database is in the data folder (a PostgreSQL
// directory is elsewhere, so a copy of the folder holds no PIN digest).
func loadPINSecret(cfg config.Config, log zerolog.Logger) ([]byte, error) {
	secret, info, err := store.FindSecret(store.SecretSources{
		Env:            os.Getenv(store.SecretEnv),
		File:           cfg.PINSecretFile,
		CredentialsDir: os.Getenv(store.CredentialsEnv),
		DataDir:        cfg.DataDir,
	})
	if err != nil {
		return nil, err
	}
	if info.Created {
		log.Info().Str("file", info.Source).Msg("created the PIN secret: back it up, apart from the database")
	}
	beside := cfg.Store.Driver == config.StoreSQLite
	switch {
	case beside && info.BesideDatabase:
		log.Warn().Str("file", info.Source).Msg("the PIN secret sits beside the database: a copy of the data folder gives away every PIN " +
			"(set pin_secret_file, DIALIN_PIN_SECRET or a systemd credential; docs/SECURITY.md)")
	case beside && info.DataCopy:
		log.Warn().Str("file", info.Source).Msg("a copy of the PIN secret is still in the data folder beside the database: delete data_dir/pin-secret")
	}
	return secret, nil
}
