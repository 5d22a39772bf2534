package token

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialin/dialin/config"
)

func TestLoadAllNamesEveryToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "alice")
	if err := os.WriteFile(file, []byte("alice-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PROV": "prov-token-0123456789"}
	getenv := func(k string) string { return env[k] }
	cfg := config.Admin{Tokens: []config.AdminToken{
		{Name: "alice", TokenFile: file},
		{Name: "provisioning", TokenEnv: "PROV"},
		{Name: "inline", Token: "inline-token-0123456789"},
	}}
	creds, source, created, err := LoadAll(cfg, getenv, filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if !created || source != filepath.Join(dir, "data", File) {
		t.Errorf("source %q, created %v", source, created)
	}
	want := []Credential{{Name: "local"}, {"alice", "alice-token-0123456789"}, {"provisioning", "prov-token-0123456789"}, {"inline", "inline-token-0123456789"}}
	if len(creds) != len(want) {
		t.Fatalf("creds %d, want %d", len(creds), len(want))
	}
	for i, c := range creds {
		if c.Name != want[i].Name || (i > 0 && c.Token != want[i].Token) {
			t.Errorf("creds[%d] = %s, want %s", i, c.Name, want[i].Name)
		}
	}

	// The built-in token's name follows its source.
	env[Env] = "env-token-0123456789"
	if creds, _, _, err := LoadAll(config.Admin{}, getenv, ""); err != nil || creds[0].Name != "env" {
		t.Errorf("from %s: %v %v", Env, creds, err)
	}
	if creds, _, _, err := LoadAll(config.Admin{Token: "config-token-0123456789"}, getenv, ""); err != nil || creds[0].Name != "config" {
		t.Errorf("from admin.token: %v", err)
	}

	// What cannot be read is an error naming the entry, never the token.
	for _, tc := range []struct {
		tok  config.AdminToken
		want string
	}{
		{config.AdminToken{Name: "gone", TokenFile: filepath.Join(dir, "missing")}, "admin.tokens[0] (gone): token_file: "},
		{config.AdminToken{Name: "unset", TokenEnv: "UNSET"}, "token_env: UNSET is not set"},
		{config.AdminToken{Name: "short", TokenEnv: "SHORT"}, "token_env: SHORT is 5 characters"},
	} {
		env["SHORT"] = "abcde"
		_, _, _, err := LoadAll(config.Admin{Tokens: []config.AdminToken{tc.tok}}, getenv, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "abcde") {
			t.Errorf("%s: %v, want %q", tc.tok.Name, err, tc.want)
		}
	}
	wide := filepath.Join(dir, "wide")
	if err := os.WriteFile(wide, []byte("wide-token-0123456789\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := LoadAll(config.Admin{Tokens: []config.AdminToken{{Name: "wide", TokenFile: wide}}}, getenv, ""); err == nil ||
		!strings.Contains(err.Error(), "group or others can read it") {
		t.Errorf("a file others can read: %v", err)
	}
}
