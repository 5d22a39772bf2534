package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dialin/dialin/admin/wire"
)

// The outbox's bodies (wire's).
type (
	OutboxEmail = wire.OutboxEmail
	OutboxPage  = wire.OutboxPage
)

// ListOutbox returns one page of emails with IDs above after, in status
// ("": every status); limit 0 means the API's default (100).
func (c *Client) ListOutbox(ctx context.Context, status string, after int64, limit int) (OutboxPage, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p OutboxPage
	err := c.do(ctx, http.MethodGet, "/outbox", q, nil, &p)
	return p, err
}

// AllOutbox follows the pages of the emails in status ("": every status).
func (c *Client) AllOutbox(ctx context.Context, status string) ([]OutboxEmail, error) {
	var all []OutboxEmail
	var after int64
	for {
		p, err := c.ListOutbox(ctx, status, after, pageLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Emails...)
		if p.NextAfter == 0 {
			return all, nil
		}
		if p.NextAfter <= after {
			return nil, fmt.Errorf("list the outbox: the API returned next_after %d after %d", p.NextAfter, after)
		}
		after = p.NextAfter
	}
}

// RetryEmail sends a failed (or pending) email again now.
func (c *Client) RetryEmail(ctx context.Context, id int64) (OutboxEmail, error) {
	var e OutboxEmail
	err := c.do(ctx, http.MethodPost, "/outbox/"+strconv.FormatInt(id, 10)+"/retry", nil, nil, &e)
	return e, err
}

// DropEmail drops a pending or failed email: it is never sent.
func (c *Client) DropEmail(ctx context.Context, id int64) (OutboxEmail, error) {
	var e OutboxEmail
	err := c.do(ctx, http.MethodDelete, "/outbox/"+strconv.FormatInt(id, 10), nil, nil, &e)
	return e, err
}
