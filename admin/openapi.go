package admin

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3 description of this API, written by hand;
// a test keeps its routes equal to the route table.
//
//go:embed openapi.json
var openAPIDoc []byte

// GET /api/v1/openapi.json
func (a *api) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
	return nil
}
