package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Helpers for the IVR's end-to-end tests: organizers are made through the
// admin API of the bridge under test.

// ivrBridgeConfig: short IVR waits so the tests move quickly, no demo
// organizer, and a known admin token.
const ivrBridgeConfig = `
demo_organizer: false
admin: {token: ` + testAdminToken + `}
ivr:
  first_digit_timeout: 3s
  inter_digit_timeout: 2s
  organizer_wait: 1s
`

// ivrAPI sends a request to the bridge's admin API and decodes the JSON
// answer into out (if not nil), failing the test unless the status is want.
func ivrAPI(t *testing.T, b *bridgeProcess, want int, method, path, body string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, apiURL(t, b)+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// ivrOrganizer enables a user (no email) and returns its conference ID and PIN.
func ivrOrganizer(t *testing.T, b *bridgeProcess, email string) (id, pin string) {
	t.Helper()
	var c struct {
		User struct {
			ConferenceID string `json:"conference_id"`
		} `json:"user"`
		PIN string `json:"pin"`
	}
	ivrAPI(t, b, 201, "POST", "/api/v1/users", `{"email":"`+email+`","send_email":false}`, &c)
	if len(c.User.ConferenceID) != 7 || c.PIN == "" {
		t.Fatalf("enable %s: %+v", email, c)
	}
	return c.User.ConferenceID, c.PIN
}

// ivrSetIDAndPIN gives an organizer a conference ID and a PIN of the test's choosing.
func ivrSetIDAndPIN(t *testing.T, b *bridgeProcess, email, id, pin string) {
	t.Helper()
	p := "/api/v1/users/" + url.PathEscape(email)
	ivrAPI(t, b, 200, "PUT", p+"/conference-id", `{"conference_id":"`+id+`","send_email":false}`, nil)
	ivrAPI(t, b, 200, "PUT", p+"/pin", `{"pin":"`+pin+`"}`, nil)
}
