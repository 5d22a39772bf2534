package config

import (
	"net/url"
	"strings"
)

// The directory's database engines (Store.Driver).
const (
	StoreSQLite   = "sqlite"   // an embedded file, data_dir/dialin.db: one node
	StorePostgres = "postgres" // a PostgreSQL server the nodes share
)

// Store is where the directory lives.
type Store struct {
	// Driver is StoreSQLite (the default) or StorePostgres.
	Driver string `yaml:"driver"`
	// DSN is the PostgreSQL connection string, a URL
	// ("postgres://dialin@db.example.com/dialin?sslmode=verify-full") or
	// libpq keywords ("host=/run/postgresql dbname=dialin"); write
	// ${DIALIN_PG_DSN} to keep a password out of the file. Only for
	// postgres: SQLite's file is always data_dir/dialin.db.
	DSN string `yaml:"dsn"`
}

func (s *Store) validate(p *problems) {
	switch s.Driver {
	case StoreSQLite:
		if s.DSN != "" {
			p.add("store.dsn", "is for driver postgres; the sqlite database is data_dir/dialin.db")
		}
	case StorePostgres:
		s.validateDSN(p)
	default:
		p.add("store.driver", "%q is not sqlite or postgres", s.Driver)
	}
}

// validateDSN checks the connection string's form; the driver parses it
// fully when serve connects. The message never quotes the string: it may
// hold a password.
func (s *Store) validateDSN(p *problems) {
	dsn := strings.TrimSpace(s.DSN)
	switch {
	case dsn == "":
		p.add("store.dsn", "is empty; driver postgres needs a connection string, e.g. ${DIALIN_PG_DSN}")
	case strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			p.add("store.dsn", "is not a valid postgres:// URL")
		}
	case !strings.Contains(dsn, "="):
		p.add("store.dsn", "is neither a postgres:// URL nor libpq keywords (host=... dbname=...)")
	}
}
