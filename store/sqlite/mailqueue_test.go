package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// An outbox written before the mail queue (schema 6) is upgraded in place:
// its emails are pending, and found by their user's address when checked.
func TestSQLiteUpgradeToMailQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialin.db")
	d := sqOpenDir(t, path)
	ada := sqEnable(t, d, "ada@example.com")
	sqEnable(t, d, "bob@example.com")
	d.Close()
	raw, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP INDEX outbox_due`, `DROP INDEX outbox_user`, `DROP INDEX outbox_status`, `DROP INDEX outbox_done`,
		`ALTER TABLE outbox DROP COLUMN status`, `ALTER TABLE outbox DROP COLUMN user_id`,
		`ALTER TABLE outbox DROP COLUMN user_email`, `ALTER TABLE outbox DROP COLUMN reason`,
		`ALTER TABLE outbox DROP COLUMN done_at`,
		`CREATE INDEX outbox_next_attempt ON outbox (next_attempt, id)`,
		`DELETE FROM schema_migrations WHERE version = 6`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	d2 := sqOpenDir(t, path)
	if n := sqPending(t, d2); n != 2 {
		t.Fatalf("%d pending after the upgrade, want 2", n)
	}
	bob, err := d2.UserByEmail(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := d2.DisableUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	due, err := d2.DueMail(ctx, 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due: %+v, %v", due, err)
	}
	if due[0].To != "ada@example.com" || due[0].Stale != "" || due[0].PIN != ada.PIN {
		t.Errorf("ada's: %+v", due[0])
	}
	if due[1].To != "bob@example.com" || !strings.HasPrefix(due[1].Stale, "the user was disabled") {
		t.Errorf("bob's: %+v", due[1])
	}
}
