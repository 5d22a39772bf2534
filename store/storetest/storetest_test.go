package storetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Every test function of the suite is in the table Run walks: one left
// out would never run against any engine.
func TestEveryTestIsListed(t *testing.T) {
	listed := map[string]bool{}
	for _, tc := range tests {
		listed[tc.name] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
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
				t.Errorf("%s: %s is not in the suite's table (storetest.go)", name, fn.Name.Name)
			}
		}
	}
}
