package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dialin/dialin/admin/wire"
)

// The call records and the usage report (GET /calls, /reports/usage).
type (
	CallRecord  = wire.CallRecord
	CallQuality = wire.Quality
	CallPage    = wire.CallPage
	UsageReport = wire.UsageReport
	UsageRow    = wire.UsageRow
)

// CallQuery selects call records; empty fields select everything. Times
// are RFC 3339 or dates (2026-01-31), as the API takes them.
type CallQuery struct {
	From, To     string
	ConferenceID string
	Organizer    string
	Calling      string
	Outcome      string
}

func (q CallQuery) values() url.Values {
	v := url.Values{}
	for name, val := range map[string]string{"from": q.From, "to": q.To, "conference_id": q.ConferenceID,
		"organizer": q.Organizer, "calling": q.Calling, "outcome": q.Outcome} {
		if val != "" {
			v.Set(name, val)
		}
	}
	return v
}

// ListCalls returns one page of the records q selects with IDs above after.
func (c *Client) ListCalls(ctx context.Context, q CallQuery, after int64, limit int) (CallPage, error) {
	v := q.values()
	if after > 0 {
		v.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var p CallPage
	err := c.do(ctx, http.MethodGet, "/calls", v, nil, &p)
	return p, err
}

// AllCalls follows the pagination of GET /calls to the end.
func (c *Client) AllCalls(ctx context.Context, q CallQuery) ([]CallRecord, error) {
	var all []CallRecord
	var after int64
	for {
		p, err := c.ListCalls(ctx, q, after, pageLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Calls...)
		if p.NextAfter == 0 {
			return all, nil
		}
		if p.NextAfter <= after {
			return nil, fmt.Errorf("list calls: the API returned next_after %d after %d", p.NextAfter, after)
		}
		after = p.NextAfter
	}
}

// Call returns the latest record of a SIP Call-ID.
func (c *Client) Call(ctx context.Context, callID string) (CallRecord, error) {
	var r CallRecord
	err := c.do(ctx, http.MethodGet, callPath(callID), nil, nil, &r)
	return r, err
}

// CallsCSV returns every record q selects as the API's CSV.
func (c *Client) CallsCSV(ctx context.Context, q CallQuery) ([]byte, error) {
	return c.getCSV(ctx, "/calls", q.values())
}

// CallCSV returns one call's record as CSV (a header and one row).
func (c *Client) CallCSV(ctx context.Context, callID string) ([]byte, error) {
	return c.getCSV(ctx, callPath(callID), nil)
}

// Usage returns the usage report of [from, to) (empty: the API's default,
// the last 30 days), of one organizer when organizer is not empty.
func (c *Client) Usage(ctx context.Context, from, to, organizer string) (UsageReport, error) {
	var r UsageReport
	err := c.do(ctx, http.MethodGet, "/reports/usage", usageQuery(from, to, organizer), nil, &r)
	return r, err
}

// UsageCSV is Usage as CSV.
func (c *Client) UsageCSV(ctx context.Context, from, to, organizer string) ([]byte, error) {
	return c.getCSV(ctx, "/reports/usage", usageQuery(from, to, organizer))
}

func usageQuery(from, to, organizer string) url.Values {
	return CallQuery{From: from, To: to, Organizer: organizer}.values()
}

func callPath(callID string) string { return "/calls/" + url.PathEscape(callID) }

// getCSV is a GET answered in CSV: the body as it came.
func (c *Client) getCSV(ctx context.Context, path string, query url.Values) ([]byte, error) {
	if query == nil {
		query = url.Values{}
	}
	query.Set("format", "csv")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/api/v1"+path+"?"+query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/csv")
	req.Header.Set("User-Agent", "dialin-cli")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCSV+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read response: %w", path, err)
	}
	if len(data) > maxCSV {
		return nil, fmt.Errorf("GET %s: CSV over %d bytes: narrow the range", path, maxCSV)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, decodeError(resp, data)
	}
	if !bytes.HasSuffix(data, []byte("\n")) && len(data) > 0 {
		data = append(data, '\n')
	}
	return data, nil
}

// maxCSV bounds a CSV export read into memory (about a million records).
const maxCSV = 1 << 30
