package main

import (
	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/token"
)

// adminCredentials hands the administrators' tokens to the API with the
// names its audit records.
func adminCredentials(creds []token.Credential) []admin.Credential {
	out := make([]admin.Credential, len(creds))
	for i, c := range creds {
		out[i] = admin.Credential{Name: c.Name, Token: c.Token}
	}
	return out
}
