package admin

import (
	"context"
	"net/http"
)

// The web pages (the admin center, the self-service page) call this API
// in-process as whoever signed in to them, so that a change made through a
// page is checked, stored, emailed and audited exactly as one made with a
// token. Who is acting travels in the request's context, which no network
// request can set; the audit names the account ("account:NAME") or the
// user ("user:EMAIL") and the browser's address.

type actingKey struct{}

type acting struct {
	account string // an administrator's account of the admin center
	user    string // a user signed in to their self-service page
	addr    string // the browser's address, for the audit
}

// AsAccount marks a request made for the administrator signed in to the
// admin center as name, from the browser at addr.
func AsAccount(ctx context.Context, name, addr string) context.Context {
	return context.WithValue(ctx, actingKey{}, acting{account: name, addr: addr})
}

// AsUser marks a request made for the user signed in to the self-service
// page as email, from the browser at addr: it opens the user's own routes
// (/api/v1/me...) and nothing else.
func AsUser(ctx context.Context, email, addr string) context.Context {
	return context.WithValue(ctx, actingKey{}, acting{user: email, addr: addr})
}

type pollingKey struct{}

// Polling marks an in-process request as one of a page's repeated reads
// (the live meetings pages read the state four times a second while
// open): its log line is at debug level, so an open page does not fill
// the log.
func Polling(ctx context.Context) context.Context {
	return context.WithValue(ctx, pollingKey{}, true)
}

func isPolling(ctx context.Context) bool {
	p, _ := ctx.Value(pollingKey{}).(bool)
	return p
}

func actingOf(ctx context.Context) acting {
	act, _ := ctx.Value(actingKey{}).(acting)
	return act
}

// accountCredential is the audit's name of an administrator's account.
func accountCredential(name string) string { return "account:" + name }

// inProcess applies the acting identity to r: the browser's address
// stands for the request's, which has none.
func inProcess(r *http.Request) (acting, *http.Request) {
	act := actingOf(r.Context())
	if (act.account != "" || act.user != "") && act.addr != "" {
		r.RemoteAddr = act.addr
	}
	return act, r
}
