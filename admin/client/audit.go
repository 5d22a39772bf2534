package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/dialin/dialin/admin/wire"
)

// The audit trail (GET /audit).
type (
	AuditEntry = wire.AuditEntry
	AuditPage  = wire.AuditPage
)

// AuditFilter selects entries of the audit trail; zero fields select all.
type AuditFilter struct {
	From, To   time.Time
	Credential string
	User       string
	Action     string
}

// ListAudit reads one page of the trail, newest first: entries with IDs
// below before (0: from the newest), at most limit (0: the server's default).
func (c *Client) ListAudit(ctx context.Context, f AuditFilter, before int64, limit int) (AuditPage, error) {
	q := url.Values{}
	if !f.From.IsZero() {
		q.Set("from", f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.UTC().Format(time.RFC3339Nano))
	}
	for k, v := range map[string]string{"credential": f.Credential, "user": f.User, "action": f.Action} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	// Each entry keeps its raw object (AuditEntry.UnmarshalJSON), for --json.
	var raw struct {
		Entries    []json.RawMessage `json:"entries"`
		NextBefore int64             `json:"next_before"`
	}
	if err := c.do(ctx, http.MethodGet, "/audit", q, nil, &raw); err != nil {
		return AuditPage{}, err
	}
	p := AuditPage{Entries: make([]AuditEntry, len(raw.Entries)), NextBefore: raw.NextBefore}
	for i, r := range raw.Entries {
		if err := p.Entries[i].UnmarshalJSON(r); err != nil {
			return AuditPage{}, fmt.Errorf("audit: decode entry: %w", err)
		}
	}
	return p, nil
}

// Audit reads up to max entries of the trail (newest first), page by page.
func (c *Client) Audit(ctx context.Context, f AuditFilter, max int) ([]AuditEntry, error) {
	var all []AuditEntry
	var before int64
	for len(all) < max {
		p, err := c.ListAudit(ctx, f, before, min(pageLimit, max-len(all)))
		if err != nil {
			return nil, err
		}
		all = append(all, p.Entries...)
		if p.NextBefore == 0 {
			return all, nil
		}
		// A cursor that does not move would loop for ever.
		if before != 0 && p.NextBefore >= before {
			return nil, fmt.Errorf("audit: the API returned next_before %d after %d", p.NextBefore, before)
		}
		before = p.NextBefore
	}
	return all, nil
}
