package wire

import (
	"encoding/json"
	"go/build"
	"strings"
	"testing"
)

// The client links this package alone: it must import nothing of the project.
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
			t.Errorf("imports %s", imp)
		}
	}
}

// A decoded response keeps its object in Raw, nested ones too; Raw is never encoded.
func TestRawKeptNotSent(t *testing.T) {
	data := `{"user":{"id":7,"email":"ada@example.com","pin":"***********"},"pin":"12345","email_queued":true}`
	var c Change
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		t.Fatal(err)
	}
	if string(c.Raw) != data || c.User.ID != 7 || c.PIN != "12345" || !c.EmailQueued ||
		string(c.User.Raw) != `{"id":7,"email":"ada@example.com","pin":"***********"}` {
		t.Fatalf("decoded %+v (raw %s)", c, c.Raw)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "Raw") || !strings.Contains(string(out), `"user":{"id":7,"email":"ada@example.com","display_name"`) {
		t.Fatalf("encoded %s", out)
	}
	var page MeetingPage
	if err := json.Unmarshal([]byte(`{"meetings":[{"conference_id":"1"},{"conference_id":"2","live":{"started":true}}],"next_after":""}`), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Meetings) != 2 || string(page.Meetings[0].Raw) != `{"conference_id":"1"}` || page.Meetings[0].Live != nil || !page.Meetings[1].Live.Started {
		t.Fatalf("page %+v", page)
	}
}

// Decoding into a variable that held an earlier response leaves nothing of
// it: a Change without a PIN has none, whatever the variable held.
func TestDecodeReplaces(t *testing.T) {
	var c Change
	if err := json.Unmarshal([]byte(`{"user":{"id":1,"email":"a@example.com"},"pin":"12345","email_queued":true}`), &c); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"user":{"id":1},"email_queued":false}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.PIN != "" || c.EmailQueued || c.User.Email != "" || string(c.Raw) != `{"user":{"id":1},"email_queued":false}` {
		t.Fatalf("second decode: %+v", c)
	}
	var s Settings
	if err := json.Unmarshal([]byte(`{"pin_length":6,"dial_in_numbers":["+1"]}`), &s); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"pin_length":5}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.PINLength != 5 || s.DialInNumbers != nil {
		t.Fatalf("settings: %+v", s)
	}
}
