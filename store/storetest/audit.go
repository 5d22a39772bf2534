package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// The entry a change's context carries is written in the change's
// transaction: with it when it commits, not at all when it rolls back.
func testAuditInTheChangesTransaction(t *testing.T, e Engine) {
	ctx := context.Background()
	d := openDir(t, e.fresh(t))

	ok := &store.AuditEntry{Credential: "ops", Address: "127.0.0.1:5000", Action: "user.enable"}
	c, err := d.EnableUser(store.WithAudit(ctx, ok), store.EnableRequest{Email: "ada@example.com", Mail: store.MailOptions{Skip: true}})
	if err != nil {
		t.Fatal(err)
	}
	if ok.ID == 0 || ok.Outcome != store.AuditOK || ok.User != "ada@example.com" || ok.Time.IsZero() {
		t.Fatalf("entry after the change: %+v", ok)
	}
	// A second enable of the same address is refused by the database:
	// the transaction rolls back, and the entry with it.
	dup := &store.AuditEntry{Credential: "ops", Action: "user.enable"}
	if _, err := d.EnableUser(store.WithAudit(ctx, dup), store.EnableRequest{Email: "ada@example.com"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("enable twice: %v", err)
	}
	if dup.ID != 0 {
		t.Fatalf("the refused change's entry was written: %+v", dup)
	}
	// Its owner writes it on its own, with the outcome.
	dup.Outcome, dup.Error = store.AuditRefused, "conflict"
	if err := d.RecordAudit(ctx, dup); err != nil || dup.ID == 0 {
		t.Fatalf("RecordAudit: %v, %+v", err, dup)
	}
	// Writing it again changes nothing; an entry without a credential is refused.
	if err := d.RecordAudit(ctx, dup); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordAudit(ctx, &store.AuditEntry{Action: "x", Outcome: store.AuditOK}); !errors.Is(err, store.ErrInvalidInput) {
		t.Fatalf("entry without credential: %v", err)
	}
	// A write without an entry (the call path's lock counters) writes none.
	if _, err := d.VerifyOrganizerPIN(ctx, c.User.ConferenceID, "0"); err != nil {
		t.Fatal(err)
	}
	set := &store.AuditEntry{Credential: "local", Action: "settings.update"}
	if _, err := d.UpdateSettings(store.WithAudit(ctx, set), func(s *store.Settings) error { s.PINLength = 8; return nil }); err != nil {
		t.Fatal(err)
	}
	if set.Detail != "pin_length 5 -> 8" {
		t.Errorf("settings detail %q", set.Detail)
	}

	all, err := d.Audit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != set.ID || all[1].ID != dup.ID || all[2].ID != ok.ID {
		t.Fatalf("audit = %+v", all)
	}
	if all[1].Outcome != store.AuditRefused || all[1].Error != "conflict" || all[2].Address != "127.0.0.1:5000" {
		t.Errorf("entries as read: %+v", all)
	}

	// Filters and the cursor.
	for _, tc := range []struct {
		f    store.AuditFilter
		want []int64
	}{
		{store.AuditFilter{Credential: "ops"}, []int64{dup.ID, ok.ID}},
		{store.AuditFilter{User: "ADA@example.com"}, []int64{dup.ID, ok.ID}},
		{store.AuditFilter{Action: "settings.update"}, []int64{set.ID}},
		{store.AuditFilter{Before: dup.ID}, []int64{ok.ID}},
		{store.AuditFilter{Limit: 1}, []int64{set.ID}},
		{store.AuditFilter{From: set.Time}, []int64{set.ID}},
		{store.AuditFilter{To: ok.Time.Add(time.Nanosecond)}, []int64{ok.ID}},
		{store.AuditFilter{Credential: "nobody"}, nil},
	} {
		got, err := d.Audit(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) {
			t.Errorf("%+v: %v, want %v", tc.f, ids, tc.want)
		}
	}
	if _, err := d.Audit(ctx, store.AuditFilter{Limit: 1001}); err == nil {
		t.Error("limit 1001 accepted")
	}
}
