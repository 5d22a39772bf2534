package postgres

import (
	"context"
	"testing"
	"time"
)

func TestZZExplain(t *testing.T) {
	s, _ := pgTempStore(t)
	users, meetings := millionUsers()
	pgBulkInsert(t, s, users, meetings)
	ctx := context.Background()
	for _, q := range []string{
		`EXPLAIN ANALYZE SELECT ` + userIndexColumns + ` FROM users WHERE id BETWEEN 1 AND 500000 ORDER BY id`,
		`EXPLAIN ANALYZE SELECT ` + userIndexColumns + ` FROM users WHERE id BETWEEN 1 AND 500000`,
		`EXPLAIN ANALYZE ` + meetingSelect + ` WHERE conference_id < '5' ORDER BY conference_id`,
		`EXPLAIN ANALYZE SELECT id, ` + userExtraColumns + ` FROM users WHERE ` + userHasExtras,
	} {
		rows, _ := s.pool.Query(ctx, q)
		for rows.Next() {
			var line string
			rows.Scan(&line)
			t.Log(line)
		}
		rows.Close()
	}
	for range 3 {
		start := time.Now()
		if _, err := s.Load(ctx); err != nil {
			t.Fatal(err)
		}
		t.Log("load", time.Since(start))
	}
}
