package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// SearchUsersFixture are the users of the search tests, to be stored in
// this order in an empty database (IDs ascending in it).
func SearchUsersFixture() []store.User {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(email, name, id string) store.User {
		return store.User{Email: email, DisplayName: name, ConferenceID: id,
			PINDigest: Digest(email), PINLength: 5, CreatedAt: created}
	}
	return []store.User{
		mk("alice@example.com", "Alice Liddell", "1000001"),
		mk("Albert@example.com", "Albert Camus", "1000002"),
		mk("bob@example.com", "Bob alvarez", "2000001"),
		mk("carol@example.com", "ALFRED Hitchcock", "1000019"),
		mk("dave@example.com", "", ""),
		mk("1000@example.com", "Numbers", "3000001"),
		mk("emile@example.com", "Émile Zola", "4000001"),
		mk("Élodie@example.com", "élodie", "4000002"),
	}
}

func emailsOf(users []store.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Email)
	}
	return out
}

// CheckSearchUsers checks b's SearchUsers on the users of
// SearchUsersFixture: a prefix of the email or the display name with ASCII
// letters in any case (only those: NOCASE's rule, so both engines find
// the same users), or of the conference ID, finds its users by ID, in
// pages after a cursor. An engine with more than one plan runs it under
// each.
func CheckSearchUsers(t *testing.T, b store.Backend) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"al", []string{"alice@example.com", "Albert@example.com", "carol@example.com"}}, // email, email, name ALFRED
		{"AL", []string{"alice@example.com", "Albert@example.com", "carol@example.com"}},
		{"alice@example.com", []string{"alice@example.com"}},
		{"ALICE@EXAMPLE.COM", []string{"alice@example.com"}},
		{"Bob Al", []string{"bob@example.com"}},
		{"alvarez", nil}, // a prefix, not a word inside
		{"1000001", []string{"alice@example.com"}},
		{"100000", []string{"alice@example.com", "Albert@example.com"}},
		{"1000", []string{"alice@example.com", "Albert@example.com", "carol@example.com", "1000@example.com"}}, // IDs and an email
		{"3000001", []string{"1000@example.com"}},
		{"40000", []string{"emile@example.com", "Élodie@example.com"}},
		{"zz", nil},
		{"%", nil},  // no wildcards
		{"_", nil},  // none
		{"a%", nil}, // none
		{"\\", nil}, // no escapes either
		{"Émile", []string{"emile@example.com"}},
		{"ÉMILE zOLA", []string{"emile@example.com"}}, // ASCII letters in any case
		{"émile", nil}, // but only ASCII letters
		{"élodie", []string{"Élodie@example.com"}}, // the name
		{"élodie@", nil}, // not the email, whose É is not é
		{"Élodie@EXAMPLE", []string{"Élodie@example.com"}},
		{"", emailsOf(SearchUsersFixture())},
	} {
		got, err := b.SearchUsers(ctx, c.q, 0, 100)
		if err != nil {
			t.Fatalf("%q: %v", c.q, err)
		}
		if !slices.Equal(emailsOf(got), c.want) {
			t.Errorf("%q: %v, want %v", c.q, emailsOf(got), c.want)
		}
	}
	// Pages: two at a time, each after the last ID of the one before.
	var all []string
	var after int64
	for range 5 {
		page, err := b.SearchUsers(ctx, "al", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, emailsOf(page)...)
		after = page[len(page)-1].ID
	}
	if want := []string{"alice@example.com", "Albert@example.com", "carol@example.com"}; !slices.Equal(all, want) {
		t.Errorf("paged: %v, want %v", all, want)
	}
	if _, err := b.SearchUsers(ctx, "a", 0, 0); err == nil {
		t.Error("limit 0 accepted")
	}
}

// testSearchUsers: CheckSearchUsers on users made with CreateUser; a
// search reads whole users, as GetUser does.
func testSearchUsers(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	for _, u := range SearchUsersFixture() {
		if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	CheckSearchUsers(t, s)
	full := FullUser(1)
	full.DisplayName, full.ConferenceID = "Zed Full", "5000001"
	if err := s.CreateUser(ctx, &full, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.SearchUsers(ctx, "zed f", 0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("SearchUsers: %v %v", got, err)
	}
	CheckUser(t, got[0], full)
}
