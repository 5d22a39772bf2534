package client

import (
	"context"

	"github.com/dialin/dialin/admin/wire"
)

// Status is the bridge's figures now and since start.
type Status = wire.Status

// Status reads GET /status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, "GET", "/status", nil, nil, &s)
	return s, err
}
