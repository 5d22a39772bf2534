package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dialin/dialin/store"
)

// withWrongCheckDigit is body (6 digits) with a last digit that is not its
// Damm check digit: an ID another system may have.
func withWrongCheckDigit(t *testing.T, body string, nth int) string {
	t.Helper()
	for d := byte('0'); d <= '9'; d++ {
		if id := body + string(d); !store.ValidConferenceID(id) {
			if nth == 0 {
				return id
			}
			nth--
		}
	}
	t.Fatal("no such ID")
	return ""
}

// testImportConferenceIDWithoutCheckDigit: an ID from another system is
// imported as it is and flagged; calls find it (typos are looked up while
// such IDs exist); it may share its first six digits with other IDs; the
// flag and the lookups survive a restart; a plain set still wants the
// check digit.
func testImportConferenceIDWithoutCheckDigit(t *testing.T, be testBackend) {
	ctx := context.Background()
	d := openTestDir(t, be, "")
	ada := enable(t, d, "ada@example.com")
	bob := enable(t, d, "bob@example.com")
	// ada's bridge-made ID, one digit off, is not a lookup: a typo by its form.
	typo := withWrongCheckDigit(t, ada.User.ConferenceID[:6], 0)
	if d.MayExist(typo) {
		t.Fatalf("%s may exist before any import", typo)
	}

	imported := withWrongCheckDigit(t, "314159", 0)
	if _, err := d.SetConferenceID(ctx, bob.User.ID, imported, store.MailOptions{Skip: true}); !errors.Is(err, store.ErrInvalidInput) ||
		!strings.Contains(err.Error(), "wrong check digit") {
		t.Fatalf("plain set of %s: %v, want the check digit refusal", imported, err)
	}
	c, err := d.ImportConferenceID(ctx, bob.User.ID, imported, store.MailOptions{Skip: true})
	if err != nil || c.User.ConferenceID != imported {
		t.Fatalf("import %s: %+v, %v", imported, c.User, err)
	}
	if m, err := d.GetMeeting(ctx, imported); err != nil || !m.NoCheckDigit || !m.Static {
		t.Fatalf("imported meeting: %+v, %v", m, err)
	}
	if conf, ok := d.LookupConference(imported); !ok || conf.OrganizerID != bob.User.ID {
		t.Fatalf("a call cannot find %s: %+v %v", imported, conf, ok)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, imported, bob.PIN); r != store.PINOK {
		t.Fatalf("bob's PIN on %s: %v", imported, r)
	}
	if !d.MayExist(typo) {
		t.Errorf("with an imported ID, %s must be looked up (it may be a typo of an imported one)", typo)
	}
	if _, ok := d.LookupConference(typo); ok {
		t.Errorf("typo %s found", typo)
	}

	// Another imported ID with the same first six digits: both work.
	carol := enable(t, d, "carol@example.com")
	sibling := withWrongCheckDigit(t, "314159", 1)
	if _, err := d.ImportConferenceID(ctx, carol.User.ID, sibling, store.MailOptions{Skip: true}); err != nil {
		t.Fatalf("import %s beside %s: %v", sibling, imported, err)
	}
	for id, who := range map[string]int64{imported: bob.User.ID, sibling: carol.User.ID} {
		if conf, ok := d.LookupConference(id); !ok || conf.OrganizerID != who {
			t.Errorf("%s: %+v %v, want organizer %d", id, conf, ok, who)
		}
	}
	if _, err := d.ImportConferenceID(ctx, ada.User.ID, imported, store.MailOptions{Skip: true}); !errors.Is(err, store.ErrExists) {
		t.Errorf("import of a taken ID: %v", err)
	}
	for _, bad := range []string{"123456", "12345678", "12a4567"} {
		var ie *store.InputError
		if _, err := d.ImportConferenceID(ctx, ada.User.ID, bad, store.MailOptions{Skip: true}); !errors.As(err, &ie) || ie.Field != "conference_id" {
			t.Errorf("import %q: %v", bad, err)
		}
	}

	// A restart keeps the flag, the chain and the lookups.
	path := d.path
	d.Close()
	d = openTestDir(t, be, path)
	for id, who := range map[string]int64{imported: bob.User.ID, sibling: carol.User.ID} {
		if conf, ok := d.LookupConference(id); !ok || conf.OrganizerID != who {
			t.Errorf("after restart %s: %+v %v", id, conf, ok)
		}
	}
	if !d.MayExist(typo) {
		t.Error("after restart the imported IDs are forgotten by MayExist")
	}

	// Moving both to IDs with a check digit: typos are refused by form again.
	if _, err := d.ResetConferenceID(ctx, bob.User.ID, store.MailOptions{Skip: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.LookupConference(imported); ok {
		t.Errorf("%s still found after reset", imported)
	}
	if !d.MayExist(typo) {
		t.Error("carol's imported ID is still there: typos must be looked up")
	}
	if err := d.DisableUser(ctx, carol.User.ID); err != nil {
		t.Fatal(err)
	}
	if d.MayExist(typo) {
		t.Error("no imported ID left, yet a wrong check digit may exist")
	}

	// An import beside a bridge-made ID of the same six digits: both found,
	// and removing one leaves the other.
	dave := enable(t, d, "dave@example.com")
	if _, err := d.ImportConferenceID(ctx, dave.User.ID, typo, store.MailOptions{Skip: true}); err != nil {
		t.Fatal(err)
	}
	if c, ok := d.LookupConference(ada.User.ConferenceID); !ok || c.OrganizerID != ada.User.ID {
		t.Errorf("ada's ID beside an import: %+v %v", c, ok)
	}
	if c, ok := d.LookupConference(typo); !ok || c.OrganizerID != dave.User.ID {
		t.Errorf("dave's imported %s: %+v %v", typo, c, ok)
	}
	if err := d.DisableUser(ctx, dave.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.LookupConference(ada.User.ConferenceID); !ok {
		t.Error("ada's ID lost with dave's import")
	}
}
