// Package storetest is the conformance suite of store.Backend: the tests
// every engine (store/sqlite, store/postgres) must pass, run by each
// engine's own tests with Run. They see the engine only through
// store.Backend (and store.Directory on top of it); what only one engine
// has (files, the driver's errors, its SQL) stays in its own tests.
//
// A test helper: only tests import it.
package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/dialin/dialin/store"
)

// Opener opens the same database each time it is called: the second call
// is a restart. Each backend it returns is closed when t ends.
type Opener func(t testing.TB) store.Backend

// Engine makes a new, empty database for t (removed when t ends) and says
// how to open it.
type Engine func(t testing.TB) Opener

// fresh opens a new empty database.
func (e Engine) fresh(t testing.TB) store.Backend {
	t.Helper()
	return e(t)(t)
}

// tests is the suite, by name. Every func test...(t, e) of the package is
// listed (storetest_test.go checks it).
var tests = []struct {
	name string
	fn   func(*testing.T, Engine)
}{
	{"EmptyStore", testEmptyStore},
	{"RestartKeepsEverything", testRestartKeepsEverything},
	{"SettingsRoundTrip", testSettingsRoundTrip},
	{"UserRoundTrip", testUserRoundTrip},
	{"DynamicModeUsers", testDynamicModeUsers},
	{"TimesRoundTripExactly", testTimesRoundTripExactly},
	{"MeetingRoundTrip", testMeetingRoundTrip},
	{"ErrExists", testErrExists},
	{"ErrNotFound", testErrNotFound},
	{"InvalidInput", testInvalidInput},
	{"ReplaceConferenceID", testReplaceConferenceID},
	{"DeleteUserCascades", testDeleteUserCascades},
	{"ListUsersPages", testListUsersPages},
	{"AuditInTheChangesTransaction", testAuditInTheChangesTransaction},
	{"CallRecordsRoundTripFilterUsagePrune", testCallRecordsRoundTripFilterUsagePrune},
	{"SearchUsers", testSearchUsers},
	{"SignInLinksRoundTrip", testSignInLinksRoundTrip},
}

// Run runs the whole suite on engine, one subtest per test.
func Run(t *testing.T, engine Engine) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, engine) })
	}
}

var testSecret = bytes.Repeat([]byte{7}, 32)

// openDir opens a directory on b, closed when the test ends.
func openDir(t testing.TB, b store.Backend) *store.Directory {
	t.Helper()
	d, err := store.Open(context.Background(), store.Options{Backend: b, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
