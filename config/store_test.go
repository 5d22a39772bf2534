package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStoreValidate(t *testing.T) {
	tests := []struct {
		name  string
		store Store
		want  string // "" means valid
	}{
		{"default sqlite", Store{Driver: StoreSQLite}, ""},
		{"postgres url", Store{Driver: StorePostgres, DSN: "postgres://dialin:pw@db.example.com/dialin?sslmode=verify-full"}, ""},
		{"postgres keywords", Store{Driver: StorePostgres, DSN: "host=/run/postgresql dbname=dialin"}, ""},
		{"unknown driver", Store{Driver: "mysql"}, `store.driver: "mysql" is not sqlite or postgres`},
		{"empty driver", Store{}, `store.driver: "" is not sqlite or postgres`},
		{"postgres without dsn", Store{Driver: StorePostgres}, "store.dsn: is empty"},
		{"postgres broken url", Store{Driver: StorePostgres, DSN: "postgres://dialin:s3cret@[::1"}, "store.dsn: is not a valid postgres:// URL"},
		{"postgres neither form", Store{Driver: StorePostgres, DSN: "db.example.com"}, "store.dsn: is neither a postgres:// URL nor libpq keywords"},
		{"sqlite with dsn", Store{Driver: StoreSQLite, DSN: "x.db"}, "store.dsn: is for driver postgres"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Store = tc.store
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Fatalf("the error shows the DSN's password: %v", err)
			}
		})
	}
}

// store.dsn takes ${NAME} from the environment, as every string does; an
// unset variable stops the start, naming it.
func TestStoreDSNFromEnvironment(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "dialin.yaml")
	if err := os.WriteFile(path, []byte("store:\n  driver: postgres\n  dsn: ${DIALIN_PG_DSN}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "DIALIN_PG_DSN is not set") {
		t.Fatalf("unset variable: %v", err)
	}
	t.Setenv("DIALIN_PG_DSN", "host=/run/postgresql dbname=dialin")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.DSN != "host=/run/postgresql dbname=dialin" {
		t.Errorf("dsn = %q", c.Store.DSN)
	}
}
