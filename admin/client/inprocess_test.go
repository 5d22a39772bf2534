package client_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

// TestInProcessActsAsTheSignedInPerson: a page's request to the API in
// this process needs no token; it acts as the account (or user) its
// context names, the audit says so with the browser's address, a user
// opens only their own routes, and a context that names nobody is refused
// as a request without a token is.
func TestInProcessActsAsTheSignedInPerson(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dialin.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.Open(ctx, store.Options{Backend: db, Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	h, err := admin.NewHandler(admin.Options{Directory: dir, Token: "a-token-the-pages-never-use", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	api := client.InProcess(h)

	var apiErr *client.APIError
	if _, err := api.ListUsers(ctx, 0, 10); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("nobody named: %v", err)
	}
	asAlice := admin.AsAccount(ctx, "alice", "192.0.2.7:50123")
	if _, err := api.EnableUser(asAlice, client.EnableRequest{Email: "ada@example.com"}); err != nil {
		t.Fatalf("enable as alice: %v", err)
	}
	entries, err := dir.Audit(ctx, store.AuditFilter{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %v %+v", err, entries)
	}
	if e := entries[0]; e.Credential != "account:alice" || e.Address != "192.0.2.7:50123" || e.Action != "user.enable" {
		t.Errorf("audit entry: %+v", e)
	}

	asAda := admin.AsUser(ctx, "ada@example.com", "192.0.2.8:40000")
	if me, err := api.Me(asAda); err != nil || me.Email != "ada@example.com" {
		t.Errorf("me as ada: %+v %v", me, err)
	}
	if _, err := api.ListUsers(asAda, 0, 10); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Errorf("a user on an administrator's route: %v", err)
	}
	if _, err := api.Me(asAlice); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Errorf("an administrator on a user's route: %v", err)
	}
}
