package token

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/dialin/dialin/config"
)

// Credential is an administrator's token with the name the audit trail
// records of whoever uses it.
type Credential struct {
	Name  string
	Token string
}

// LoadAll returns every administrator's token `dialin serve` accepts: the
// built-in one (LoadOrCreate), named config, env or local by where it came
// from, then those of admin.tokens, read from their files and variables
// now. source and created are LoadOrCreate's. Errors name the token, never
// show it.
func LoadAll(cfg config.Admin, getenv func(string) string, dataDir string) (creds []Credential, source string, created bool, err error) {
	builtIn, source, created, err := LoadOrCreate(cfg, getenv(Env), dataDir)
	if err != nil {
		return nil, "", false, err
	}
	creds = append(creds, Credential{Name: BuiltInName(source), Token: builtIn})
	for i, t := range cfg.Tokens {
		tok, err := namedToken(t, getenv)
		if err != nil {
			return nil, "", false, fmt.Errorf("admin.tokens[%d] (%s): %w", i, t.Name, err)
		}
		creds = append(creds, Credential{Name: t.Name, Token: tok})
	}
	return creds, source, created, nil
}

// BuiltInName is the audit's name of the built-in token read from source
// (as LoadOrCreate and Read say it).
func BuiltInName(source string) string {
	switch source {
	case "config admin.token":
		return config.TokenNameConfig
	case Env:
		return config.TokenNameEnv
	}
	return config.TokenNameLocal
}

// namedToken reads one token of admin.tokens, checked as the built-in one.
func namedToken(t config.AdminToken, getenv func(string) string) (string, error) {
	switch {
	case t.Token != "":
		if err := checkToken(t.Token); err != nil {
			return "", fmt.Errorf("token %w", err)
		}
		return t.Token, nil
	case t.TokenEnv != "":
		v := strings.TrimSpace(getenv(t.TokenEnv))
		if v == "" {
			return "", fmt.Errorf("token_env: %s is not set or empty", t.TokenEnv)
		}
		if err := checkToken(v); err != nil {
			return "", fmt.Errorf("token_env: %s %w", t.TokenEnv, err)
		}
		return v, nil
	case t.TokenFile != "":
		v, err := readTokenFile(t.TokenFile, "")
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("token_file: %s does not exist", t.TokenFile)
		}
		return v, err
	}
	return "", errors.New("no token, token_file or token_env") // config's Validate refuses this first
}
