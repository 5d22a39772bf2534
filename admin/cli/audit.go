package cli

// dialin audit list: who changed what, newest first.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// defaultAuditLimit is how many entries audit list shows without --limit.
const defaultAuditLimit = 50

func runAuditList(j *job, _ []string) error {
	f, limit, err := auditFilter(j.line, time.Now())
	if err != nil {
		return err
	}
	entries, err := j.client.Audit(j.ctx, f, limit)
	if err != nil {
		return err
	}
	if done, err := printList(j, entries, func(e client.AuditEntry) json.RawMessage { return e.Raw }, "No audit entries"); done {
		return err
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCREDENTIAL\tFROM\tACTION\tTARGET\tOUTCOME\tDETAIL")
	for _, e := range entries {
		detail := e.Detail
		if e.Error != "" {
			detail = strings.TrimSpace(e.Error + "; " + detail)
			detail = strings.TrimSuffix(detail, ";")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", timeText(e.Time), cell(e.Credential), cell(e.Address),
			cell(e.Action), cell(e.Target), cell(e.Outcome), cell(detail))
	}
	tw.Flush()
	fmt.Fprintf(j.out, "%d entr%s, newest first\n", len(entries), map[bool]string{true: "y", false: "ies"}[len(entries) == 1])
	return nil
}

// auditFilter reads the flags of audit list (a bad one is a usage error,
// found before any request).
func auditFilter(l line, now time.Time) (client.AuditFilter, int, error) {
	f := client.AuditFilter{Credential: l.flags["credential"], User: l.flags["user"], Action: l.flags["action"]}
	var err error
	if f.From, err = flagTime(l, "from", now); err != nil {
		return f, 0, err
	}
	if f.To, err = flagTime(l, "to", now); err != nil {
		return f, 0, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, 0, &usageError{msg: "--from must be before --to"}
	}
	limit := defaultAuditLimit
	if s, ok := l.flags["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			return f, 0, &usageError{msg: fmt.Sprintf("--limit %q is not a number from 1 to 100000", s)}
		}
		limit = n
	}
	return f, limit, nil
}

// flagTime reads a time flag: RFC 3339 (2026-01-02T15:04:05Z), a day
// (2026-01-02, UTC midnight), or a duration ago (24h, 90m).
func flagTime(l line, name string, now time.Time) (time.Time, error) {
	s, ok := l.flags[name]
	if !ok {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, &usageError{msg: fmt.Sprintf("--%s %q is not a time like 2026-01-02T15:04:05Z, a day like 2026-01-02 or a duration ago like 24h", name, s)}
}
