package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store/storetest"
)

// TestPostgresSearchUsers: the conformance suite's search checks under
// both plans: few matches (the index ranges) and many (a window first).
func TestPostgresSearchUsers(t *testing.T) {
	s, _ := pgTempStore(t)
	ctx := context.Background()
	for _, u := range storetest.SearchUsersFixture() {
		if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("sparse", func(t *testing.T) { storetest.CheckSearchUsers(t, s) })
	t.Run("dense", func(t *testing.T) {
		defer func(d int, w int64) { denseFrom, searchWindow = d, w }(denseFrom, searchWindow)
		denseFrom, searchWindow = 1, 2 // every search is dense; windows of two IDs
		storetest.CheckSearchUsers(t, s)
	})
}

// TestPostgresSearchUsersPlan: on 20,000 analysed users, the search reads
// indexes (no sequential scan of users; a dense search's window by primary
// key), in the plan made for the values
// and in the generic plan a prepared statement comes to after five runs
// (pgx prepares and caches its statements).
func TestPostgresSearchUsersPlan(t *testing.T) {
	s, _ := pgTempStore(t)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO users (email, display_name, conference_id, pin_digest, pin_length, created_at)
		SELECT 'u' || i || '@example.com', 'Name ' || i, (1000000 + i)::text, '\x00'::bytea, 5, 1
		FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	args := []any{"u123", "u123" + prefixEnd, "", "", int64(0), 100, searchWindow}
	// The window is read when a search is dense: here every user.
	dense := []any{"u", "u" + prefixEnd, "", "", int64(0), 100, searchWindow}
	for _, c := range []struct {
		name, query string
		args        []any
		want        []string // in the plan
	}{
		{"ranges", searchUsersQuery, args[:6], []string{"users_email_search", "users_display_name", "users_conference_id", "users_pkey"}},
		{"count", searchCountQuery, append(args[:5:5], denseFrom), []string{"users_email_search", "users_display_name", "users_conference_id"}},
		{"window", searchWindowQuery, dense, []string{"users_pkey"}},
	} {
		for _, mode := range []string{"auto", "force_generic_plan"} {
			plan := pgPlan(t, s, mode, c.query, c.args...)
			t.Logf("%s (%s):\n%s", c.name, mode, plan)
			if strings.Contains(plan, "Seq Scan on users") {
				t.Errorf("%s (%s): a sequential scan of users:\n%s", c.name, mode, plan)
			}
			for _, want := range c.want {
				if !strings.Contains(plan, want) {
					t.Errorf("%s (%s): no %s in the plan:\n%s", c.name, mode, want, plan)
				}
			}
		}
	}
}

// pgPlan is EXPLAIN's text of query prepared and run with args under
// plan_cache_mode mode.
func pgPlan(t *testing.T, s *DB, mode, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var lines []string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = `+mode); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `PREPARE search_plan AS `+query); err != nil {
			return err
		}
		// EXECUTE takes no parameters of its own: the values are literals.
		values := make([]string, len(args))
		for i, a := range args {
			switch a := a.(type) {
			case string:
				values[i] = "'" + strings.ReplaceAll(a, "'", "''") + "'"
			default:
				values[i] = fmt.Sprint(a)
			}
		}
		rows, err := tx.Query(ctx, `EXPLAIN EXECUTE search_plan (`+strings.Join(values, ", ")+`)`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DEALLOCATE search_plan`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
