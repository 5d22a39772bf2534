package pgtest

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

var pg Lazy

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// A database of its own takes a query, and the server is gone after Stop.
func TestServerAndDatabase(t *testing.T) {
	srv := pg.Get(t)
	dsn := srv.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT 1 + 1`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("SELECT 1 + 1 = %d, %v", n, err)
	}
	// What a test stores is found on disk, as in a SQLite file.
	if _, err := conn.Exec(ctx, `CREATE TABLE t (v text); INSERT INTO t VALUES ('needle-4711')`); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(srv.Stored(t, dsn), []byte("needle-4711")) {
		t.Error("Stored does not hold a value just written")
	}
	other := srv.NewDatabase(t)
	if other == dsn {
		t.Fatal("two tests share a database")
	}
}
