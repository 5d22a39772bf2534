package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dialin/dialin/admin/wire"
)

// The administrators' accounts (wire's).
type (
	Admin         = wire.Admin
	AdminPassword = wire.AdminPassword
)

// Admins lists the administrators' accounts of the admin center.
func (c *Client) Admins(ctx context.Context) ([]Admin, error) {
	// Each account keeps its raw object (Admin.UnmarshalJSON), for --json.
	var raw struct {
		Admins []json.RawMessage `json:"admins"`
	}
	if err := c.do(ctx, http.MethodGet, "/admins", nil, nil, &raw); err != nil {
		return nil, err
	}
	admins := make([]Admin, len(raw.Admins))
	for i, r := range raw.Admins {
		if err := admins[i].UnmarshalJSON(r); err != nil {
			return nil, fmt.Errorf("admins: decode account: %w", err)
		}
	}
	return admins, nil
}

// AddAdmin creates an account; the answer holds its password, this once.
func (c *Client) AddAdmin(ctx context.Context, name string) (AdminPassword, error) {
	var out AdminPassword
	err := c.do(ctx, http.MethodPost, "/admins", nil, wire.AdminRequest{Name: &name}, &out)
	return out, err
}

// ResetAdminPassword gives the account a new password, returned this once.
func (c *Client) ResetAdminPassword(ctx context.Context, name string) (AdminPassword, error) {
	var out AdminPassword
	err := c.do(ctx, http.MethodPost, "/admins/"+url.PathEscape(name)+"/password", nil, nil, &out)
	return out, err
}

// RemoveAdmin deletes the account.
func (c *Client) RemoveAdmin(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/admins/"+url.PathEscape(name), nil, nil, nil)
}
