package config

import (
	"fmt"
	"regexp"
	"strings"
)

// AdminToken is one named administrator's token of admin.tokens: the name
// is what the audit trail records of whoever uses it (the token never is).
// The token is given exactly one way: in the file, in a file of its own,
// or in an environment variable.
type AdminToken struct {
	// Name is 1-64 letters, digits, '.', '_', '-' or '@', unique, and not
	// one of the names of the built-in token (ReservedTokenNames).
	Name string `yaml:"name"`
	// Token is the token itself (at least 16 characters); prefer ${VAR}
	// or token_file.
	Token string `yaml:"token"`
	// TokenFile is a file holding the token (mode 0600 or stricter), read
	// at start.
	TokenFile string `yaml:"token_file"`
	// TokenEnv is the name of an environment variable holding the token,
	// read at start.
	TokenEnv string `yaml:"token_env"`
}

// Names the built-in token takes in the audit, by where it came from:
// admin.token, DIALIN_ADMIN_TOKEN, the systemd credential admin-token, or
// the file admin-token in data_dir.
const (
	TokenNameConfig     = "config"
	TokenNameEnv        = "env"
	TokenNameCredential = "credential"
	TokenNameLocal      = "local"
)

// ReservedTokenNames are the built-in token's names, which admin.tokens
// may not use.
var ReservedTokenNames = []string{TokenNameConfig, TokenNameEnv, TokenNameCredential, TokenNameLocal}

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validateTokens checks admin.tokens; the token files and variables are
// read at start (admin/token), where a missing one is an error.
func validateTokens(tokens []AdminToken, p *problems) {
	seen := map[string]bool{}
	for _, n := range ReservedTokenNames {
		seen[n] = true
	}
	for i, t := range tokens {
		path := fmt.Sprintf("admin.tokens[%d]", i)
		switch {
		case t.Name == "":
			p.add(path+".name", "is required")
		case !tokenNameRE.MatchString(t.Name):
			p.add(path+".name", "%q: use 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit", t.Name)
		case seen[t.Name]:
			p.add(path+".name", "%q is used twice or is reserved (%s name the built-in token)", t.Name, strings.Join(ReservedTokenNames, ", "))
		}
		seen[t.Name] = true
		given := 0
		for _, v := range []string{t.Token, t.TokenFile, t.TokenEnv} {
			if v != "" {
				given++
			}
		}
		if given != 1 {
			p.add(path, "give exactly one of token, token_file and token_env (%d given)", given)
		}
		if t.Token != "" {
			if len(t.Token) < 16 {
				p.add(path+".token", "is %d characters; use at least 16", len(t.Token))
			}
			if strings.IndexFunc(t.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
				p.add(path+".token", "contains a space or control character")
			}
		}
		if t.TokenEnv != "" && !envNameRE.MatchString(t.TokenEnv) {
			p.add(path+".token_env", "%q is not an environment variable name", t.TokenEnv)
		}
	}
}
