package postgres

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// Every SQLite migration has its PostgreSQL translation, numbered and
// named the same, so a schema version means the same schema in both
// engines: a migration added to store/sqlite fails this test until it is
// added here too. It reads store/sqlite's list from its source (the list
// is not exported, and the engines do not import each other).
func TestPostgresMigrationsMatchSQLite(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../sqlite/migrations.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sqlite []migration
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != "migrations" || len(spec.Values) != 1 {
			return true
		}
		list, ok := spec.Values[0].(*ast.CompositeLit)
		if !ok {
			t.Fatal("store/sqlite's migrations is not a list literal")
		}
		for _, elt := range list.Elts {
			var m migration
			for _, kv := range elt.(*ast.CompositeLit).Elts {
				kv := kv.(*ast.KeyValueExpr)
				lit, ok := kv.Value.(*ast.BasicLit)
				if !ok {
					continue
				}
				switch kv.Key.(*ast.Ident).Name {
				case "version":
					m.version, _ = strconv.Atoi(lit.Value)
				case "name":
					m.name, _ = strconv.Unquote(lit.Value)
				}
			}
			sqlite = append(sqlite, m)
		}
		return false
	})
	if len(sqlite) == 0 {
		t.Fatal("found no migrations in store/sqlite/migrations.go")
	}
	for i, m := range sqlite {
		if i >= len(migrations) {
			t.Errorf("SQLite's migration %d (%s) has no PostgreSQL translation in migrations.go", m.version, m.name)
			continue
		}
		if got := migrations[i]; got.version != m.version || got.name != m.name {
			t.Errorf("migration %d: PostgreSQL's is %d (%s), SQLite's %d (%s)", i, got.version, got.name, m.version, m.name)
		}
	}
	for _, m := range migrations[min(len(sqlite), len(migrations)):] {
		t.Errorf("PostgreSQL's migration %d (%s) is not SQLite's", m.version, m.name)
	}
}
