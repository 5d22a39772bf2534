package postgres

import (
	"testing"

	"github.com/dialin/dialin/store"
)

func TestParseChange(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    store.ChangeEvent
		ok      bool
	}{
		{"s", store.ChangeEvent{Kind: store.ChangeSettings}, true},
		{"u:42", store.ChangeEvent{Kind: store.ChangeUser, UserID: 42}, true},
		{"m:1234567", store.ChangeEvent{Kind: store.ChangeMeeting, ConferenceID: "1234567"}, true},
		{"u:x", store.ChangeEvent{Kind: store.ChangeUser}, false},
		{"z:1", store.ChangeEvent{}, false}, // a newer node's kind: ignored
	} {
		got, ok := parseChange(tc.payload)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseChange(%q) = %+v, %v; want %+v, %v", tc.payload, got, ok, tc.want, tc.ok)
		}
	}
}
