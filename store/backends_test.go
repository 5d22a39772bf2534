package store_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialin/dialin/internal/pgtest"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/postgres"
	"github.com/dialin/dialin/store/sqlite"
)

// The directory's tests run on both engines: every test that opens a
// directory is a func testX(t, be) listed in directoryTests, and TestStore
// runs each on SQLite (a file in t's temp folder) and on PostgreSQL (a
// database of its own on the package's server, internal/pgtest):
// go test -run 'TestStore/postgres/EnableUser' ./store.

// testBackend is an engine the directory's tests run on.
type testBackend struct {
	name string
	// create makes a new empty database for t and says where it is (a
	// file's path, a DSN): what open and stored take.
	create func(t testing.TB) string
	// open opens the database; the store is closed when t ends (or by
	// the Directory's Close).
	open func(t testing.TB, where string) store.Backend
	// stored is every byte the database keeps on disk, for the tests that
	// look for a secret in clear.
	stored func(t testing.TB, where string) []byte
}

// pg is the package's PostgreSQL server, started by the first test that
// needs it and stopped by TestMain.
var pg pgtest.Lazy

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

var testBackends = []testBackend{
	{
		name:   "sqlite",
		create: func(t testing.TB) string { return filepath.Join(t.TempDir(), "dialin.db") },
		open: func(t testing.TB, path string) store.Backend {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		stored: func(t testing.TB, path string) []byte {
			var all []byte
			for _, f := range []string{path, path + "-wal"} {
				data, err := os.ReadFile(f)
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
				all = append(all, data...)
			}
			return all
		},
	},
	{
		name:   "postgres",
		create: func(t testing.TB) string { return pg.Get(t).NewDatabase(t) },
		open: func(t testing.TB, dsn string) store.Backend {
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		stored: func(t testing.TB, dsn string) []byte { return pg.Get(t).Stored(t, dsn) },
	},
}

// directoryTests are the tests TestStore runs on every backend.
var directoryTests = []struct {
	name string
	fn   func(*testing.T, testBackend)
}{
	{"UpdateSettingsTrimsNumbers", testUpdateSettingsTrimsNumbers},
	{"AddressesNameTheField", testAddressesNameTheField},
	{"AdminAccounts", testAdminAccounts},
	{"AdminPasswordDefaultCosts", testAdminPasswordDefaultCosts},
	{"ListedMeetingsSayWhatACallDoes", testListedMeetingsSayWhatACallDoes},
	{"EnableUserGivesConferenceIDAndPIN", testEnableUserGivesConferenceIDAndPIN},
	{"MistypedConferenceIDRefused", testMistypedConferenceIDRefused},
	{"PINLengthChangeAppliesToNewPINsOnly", testPINLengthChangeAppliesToNewPINsOnly},
	{"SetPINPolicy", testSetPINPolicy},
	{"ResetConferenceIDKillsOldID", testResetConferenceIDKillsOldID},
	{"LockoutLocalWindowAndGlobal", testLockoutLocalWindowAndGlobal},
	{"PerUserLockoutOverride", testPerUserLockoutOverride},
	{"RestartKeepsEverythingAndNoClearPIN", testRestartKeepsEverythingAndNoClearPIN},
	{"DisableUserAndDynamicMeetings", testDisableUserAndDynamicMeetings},
	{"ConcurrentLookupsVerificationsAndWrites", testConcurrentLookupsVerificationsAndWrites},
	{"UserJSONMasksPIN", testUserJSONMasksPIN},
	{"DynamicConferenceIDMode", testDynamicConferenceIDMode},
	{"LockSurvivesCancelledCallerAndRestart", testLockSurvivesCancelledCallerAndRestart},
	{"ImportConferenceIDWithoutCheckDigit", testImportConferenceIDWithoutCheckDigit},
	{"SupersedeLatestPIN", testSupersedeLatestPIN},
	{"SupersedeByFact", testSupersedeByFact},
	{"StaleMailDropped", testStaleMailDropped},
	{"CannotProduceMailRefused", testCannotProduceMailRefused},
	{"EmailToWithEmailsOff", testEmailToWithEmailsOff},
	{"OutboxStates", testOutboxStates},
	{"SetEmailOverride", testSetEmailOverride},
	{"SendInfoBesideWelcome", testSendInfoBesideWelcome},
	{"EnableQueuesWelcomeEmail", testEnableQueuesWelcomeEmail},
	{"OutboxHoldsNoPINInClear", testOutboxHoldsNoPINInClear},
	{"EmailsOffQueuesNothingOnChanges", testEmailsOffQueuesNothingOnChanges},
	{"MailOptions", testMailOptions},
	{"MailFailedKeepsAndDelays", testMailFailedKeepsAndDelays},
	{"OutboxSurvivesRestart", testOutboxSurvivesRestart},
	{"OutboxWithAnotherSecret", testOutboxWithAnotherSecret},
	{"SetConferenceID", testSetConferenceID},
	{"UserByEmailAndListing", testUserByEmailAndListing},
	{"SetPINLengthStoredAndUsedByResets", testSetPINLengthStoredAndUsedByResets},
	{"UserTokens", testUserTokens},
	{"UserTokenExpiresAndRevokes", testUserTokenExpiresAndRevokes},
	{"LookupConferenceCarriesAnnouncements", testLookupConferenceCarriesAnnouncements},
	{"SignInLinks", testSignInLinks},
	{"ClusterOnlySharedBackend", testClusterOnlySharedBackend},
}

// TestStore runs the directory's tests on every backend.
func TestStore(t *testing.T) {
	for _, be := range testBackends {
		t.Run(be.name, func(t *testing.T) {
			for _, tc := range directoryTests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, be) })
			}
		})
	}
}

// Every func testX(t, be) of the package is in directoryTests: one left
// out would never run.
func TestStoreListsEveryTest(t *testing.T) {
	listed := map[string]bool{}
	for _, tc := range directoryTests {
		listed[tc.name] = true
	}
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "test") || len(fn.Type.Params.List) != 2 {
				continue
			}
			if !listed[strings.TrimPrefix(fn.Name.Name, "test")] {
				t.Errorf("%s: %s is not in directoryTests (backends_test.go)", name, fn.Name.Name)
			}
		}
	}
}
