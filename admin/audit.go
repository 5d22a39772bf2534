package admin

// The audit trail of the API (store/audit.go has the rules): every request
// to a route that changes something (every method but GET) leaves one
// entry, with the name of the credential, the client's address, the
// action, its target and the outcome. The entry rides in the request's
// context: the directory writes it in the transaction of the change; what
// changed nothing in the database (refused before, failed, or a live
// meeting control) is written here afterwards. Requests without a valid
// credential are not audited (they name nobody, and would let a stranger
// fill the database); the request log has them.

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// auditDirectory is what the audit needs of the directory.
type auditDirectory interface {
	RecordAudit(ctx context.Context, e *store.AuditEntry) error
	Audit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// auditActions names the action of each route that changes something. A
// route missing here is still audited, under its pattern, and fails
// TestAuditEveryRoute.
var auditActions = map[string]string{
	"POST /api/v1/users":                                                      "user.enable",
	"DELETE /api/v1/users/{email}":                                            "user.disable",
	"POST /api/v1/users/{email}/pin/reset":                                    "pin.reset",
	"PUT /api/v1/users/{email}/pin":                                           "pin.set",
	"POST /api/v1/users/{email}/pin/unlock":                                   "pin.unlock",
	"POST /api/v1/users/{email}/conference-id/reset":                          "conference_id.reset",
	"PUT /api/v1/users/{email}/conference-id":                                 "conference_id.set",
	"POST /api/v1/users/{email}/conference-id/send-info":                      "conference_id.send_info",
	"POST /api/v1/users/{email}/token":                                        "user.token_issue",
	"DELETE /api/v1/users/{email}/token":                                      "user.token_revoke",
	"PATCH /api/v1/settings":                                                  "settings.update",
	"POST /api/v1/meetings":                                                   "meeting.create",
	"DELETE /api/v1/meetings/{conference_id}":                                 "meeting.delete",
	"POST /api/v1/meetings/{conference_id}/start":                             "meeting.start",
	"POST /api/v1/meetings/{conference_id}/end":                               "meeting.end",
	"POST /api/v1/meetings/{conference_id}/admit":                             "meeting.admit",
	"PUT /api/v1/meetings/{conference_id}/lock":                               "meeting.lock",
	"PUT /api/v1/meetings/{conference_id}/participants/{participant_id}/mute": "meeting.mute",
	"DELETE /api/v1/meetings/{conference_id}/participants/{participant_id}":   "meeting.remove",
	"POST /api/v1/me/pin/reset":                                               "self.pin_reset",
	"PUT /api/v1/me/pin":                                                      "self.pin_set",
	"POST /api/v1/me/send-info":                                               "self.send_info",
	"PATCH /api/v1/users/{email}":                                             "user.update",
	"POST /api/v1/outbox/{id}/retry":                                          "outbox.retry",
	"DELETE /api/v1/outbox/{id}":                                              "outbox.drop",
	"POST /api/v1/admins":                                                     "admin_account.add",
	"POST /api/v1/admins/{name}/password":                                     "admin_account.password_reset",
	"DELETE /api/v1/admins/{name}":                                            "admin_account.remove",
}

// changes reports whether a route of this method changes something.
func changes(method string) bool { return method != http.MethodGet && method != http.MethodHead }

// credentialKey carries the name of the request's credential.
type credentialKey struct{}

func withCredential(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, credentialKey{}, name)
}

// credentialOf is the name of the administrator's token the request
// carries, "" if none (a public route, or a user's own route).
func credentialOf(ctx context.Context) string {
	name, _ := ctx.Value(credentialKey{}).(string)
	return name
}

// userCredential is the audit's name of a user's own token.
func userCredential(email string) string { return "user:" + email }

// audited wraps the handler of a route that changes something: it puts a
// new entry in the request's context and writes it afterwards if the
// change did not.
func (a *api) audited(method, path string, h handlerFunc) handlerFunc {
	if !changes(method) {
		return h
	}
	action, ok := auditActions[method+" "+path]
	if !ok {
		action = method + " " + path
	}
	return func(w http.ResponseWriter, r *http.Request) (err error) {
		e := &store.AuditEntry{Credential: credentialOf(r.Context()), Address: r.RemoteAddr, Action: action}
		aboutPath(e, r)
		r = r.WithContext(store.WithAudit(r.Context(), e))
		defer func() {
			if p := recover(); p != nil {
				a.finishAudit(r, e, errors.New("panic"))
				panic(p)
			}
			a.finishAudit(r, e, err)
		}()
		return h(w, r)
	}
}

// aboutPath sets the target the path names. Only what passes the path's
// checks is recorded: a PIN typed where an address belongs must not land
// in the audit.
func aboutPath(e *store.AuditEntry, r *http.Request) {
	if email := strings.TrimSpace(r.PathValue("email")); email != "" {
		if checkEmail("email", email) == nil {
			e.User, e.Target = email, "user "+email
		} else {
			e.Target = "user (not a valid address)"
		}
	}
	if id := r.PathValue("conference_id"); id != "" {
		meeting := "meeting (not a valid conference ID)"
		if store.ValidConferenceID(id) {
			meeting = "meeting " + id
		}
		e.Target = meeting
		if pid := r.PathValue("participant_id"); pid != "" {
			if checkCallerID("participant_id", pid) == nil {
				e.Target = "participant " + pid + " of " + meeting
			} else {
				e.Target = "participant (not a valid id) of " + meeting
			}
		}
	}
	if id := r.PathValue("id"); id != "" && strings.HasPrefix(r.URL.Path, "/api/v1/outbox/") {
		e.Target = "email (not a valid ID)"
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
			e.Target = "email " + strconv.FormatInt(n, 10)
		}
	}
	if name := r.PathValue("name"); name != "" && strings.HasPrefix(r.URL.Path, "/api/v1/admins/") {
		e.Target = "administrator (not a valid name)"
		if store.ValidAdminName(name) {
			e.Target = "administrator " + name
		}
	}
	if strings.HasPrefix(r.URL.Path, "/api/v1/settings") {
		e.Target = "settings"
	}
}

// auditUser says which user the request is about, when it names them in
// its body and the address is valid.
func auditUser(r *http.Request, email string) {
	e := store.AuditOf(r.Context())
	if e == nil || checkEmail("email", email) != nil {
		return
	}
	e.User, e.Target = email, "user "+email
}

// auditNote adds what a change did that only the handler knows (the live
// controls), and optionally a more precise target.
func auditNote(r *http.Request, target, detail string) {
	e := store.AuditOf(r.Context())
	if e == nil {
		return
	}
	if target != "" {
		e.Target = target
	}
	e.Detail = detail
}

// finishAudit writes e unless its change did, with the outcome err says.
// A request the handler could not authenticate (a wrong user token) names
// no credential and is not audited.
func (a *api) finishAudit(r *http.Request, e *store.AuditEntry, err error) {
	if e.ID != 0 || e.Credential == "" {
		return
	}
	e.Time = time.Time{} // now: the time of the refusal
	e.Outcome, e.Error = store.AuditOK, ""
	if err != nil {
		ae, _ := toAPIError(err)
		e.Outcome = store.AuditRefused
		if ae.Status >= 500 {
			e.Outcome = store.AuditFailed
		}
		// The code, the field and the rule: never the message, which may
		// echo what was sent.
		e.Error = ae.Code
		if ae.Field != "" {
			e.Error += " (field " + ae.Field + ")"
		}
		if ae.Rule != "" {
			e.Error += " (rule " + ae.Rule + ")"
		}
		// What the directory or handler noted is what was tried, not done.
		if e.Detail != "" {
			e.Detail = "attempted: " + e.Detail
		}
	}
	e.Target = auditText(e.Target)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := a.audit.RecordAudit(ctx, e); err != nil {
		a.log.Error().Err(err).Str("action", e.Action).Str("credential", e.Credential).Msg("audit entry not written")
	}
}

// auditText bounds a target for the audit and keeps control characters out.
func auditText(s string) string {
	const maxLen = 256
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
	if len(s) > maxLen {
		s = s[:maxLen]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// viewAudit is an entry as the API shows it.
func viewAudit(e store.AuditEntry) wire.AuditEntry {
	return wire.AuditEntry{ID: e.ID, Time: e.Time, Credential: e.Credential, Address: e.Address,
		Action: e.Action, User: e.User, Target: e.Target, Detail: e.Detail, Outcome: e.Outcome, Error: e.Error}
}

// GET /api/v1/audit?from=TIME&to=TIME&credential=NAME&user=EMAIL&action=ACTION&before=ID&limit=N
func (a *api) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AuditFilter{Credential: q.Get("credential"), User: strings.TrimSpace(q.Get("user")), Action: q.Get("action")}
	var err error
	if f.From, err = queryTime(q, "from"); err != nil {
		return err
	}
	if f.To, err = queryTime(q, "to"); err != nil {
		return err
	}
	if f.Before, err = queryInt(q, "before", 0, 1, 1<<62); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(q); err != nil {
		return err
	}
	entries, err := a.audit.Audit(r.Context(), f)
	if err != nil {
		return err
	}
	out := wire.AuditPage{Entries: make([]wire.AuditEntry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, viewAudit(e))
	}
	if len(entries) == f.Limit {
		// A full page: look one further, so next_before is 0 exactly at the end.
		probe := f
		probe.Before, probe.Limit = entries[len(entries)-1].ID, 1
		more, err := a.audit.Audit(r.Context(), probe)
		if err != nil {
			return err
		}
		if len(more) > 0 {
			out.NextBefore = probe.Before
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
