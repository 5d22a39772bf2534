package admin

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// The OpenAPI document describes exactly the routes the handler serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type, Scheme string
			} `json:"securitySchemes"`
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	if s := doc.Components.SecuritySchemes["bearerAuth"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Fatalf("bearer security scheme: %+v", s)
	}
	if _, ok := doc.Components.Schemas["Error"]; !ok {
		t.Fatal("no Error schema")
	}

	var inDoc, inCode []string
	public := map[string]bool{}
	self := map[string]bool{} // served with a user's own token
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			key := strings.ToUpper(method) + " " + path
			inDoc = append(inDoc, key)
			var op struct {
				Security  *[]any                     `json:"security"`
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			public[key] = op.Security != nil && len(*op.Security) == 0
			if op.Security != nil && len(*op.Security) == 1 {
				if m, ok := (*op.Security)[0].(map[string]any); ok {
					if _, ok := m["userToken"]; ok {
						self[key] = true
					}
				}
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s has no responses", key)
			}
			if _, ok := op.Responses["401"]; !ok && !public[key] {
				t.Errorf("%s needs the token but documents no 401", key)
			}
		}
	}
	for _, rt := range (&api{}).routes() {
		key := rt.method + " " + rt.path
		inCode = append(inCode, key)
		if public[key] != rt.public {
			t.Errorf("%s: public %v in the document, %v in the code", key, public[key], rt.public)
		}
		if self[key] {
			t.Errorf("%s: the document asks for a user token, the code for the admin token", key)
		}
	}
	for _, rt := range (&api{}).selfRoutes() {
		key := rt.method + " " + rt.path
		inCode = append(inCode, key)
		if !self[key] {
			t.Errorf("%s: the code asks for a user token, the document does not", key)
		}
	}
	sort.Strings(inDoc)
	sort.Strings(inCode)
	if strings.Join(inDoc, "\n") != strings.Join(inCode, "\n") {
		t.Fatalf("routes differ:\ndocument:\n%s\n\ncode:\n%s", strings.Join(inDoc, "\n"), strings.Join(inCode, "\n"))
	}

	// Every $ref points at something the document defines.
	var whole any
	if err := json.Unmarshal(openAPIDoc, &whole); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(whole, ref) {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(whole)
}

func resolves(doc any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	cur := doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.raw("GET", "/api/v1/openapi.json", "", http.Header{})
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || string(r.body) != string(openAPIDoc) {
		t.Fatalf("GET openapi.json: %d %q (%d bytes)", r.status, r.header.Get("Content-Type"), len(r.body))
	}
}
