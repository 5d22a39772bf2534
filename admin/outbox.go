package admin

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// outboxDirectory is what the /outbox routes need of the directory.
type outboxDirectory interface {
	ListMail(ctx context.Context, f store.MailFilter) ([]store.SealedMail, error)
	GetMail(ctx context.Context, id int64) (store.SealedMail, error)
	RetryMail(ctx context.Context, id int64) (store.SealedMail, error)
	DropMail(ctx context.Context, id int64) (store.SealedMail, error)
}

// viewEmail is an email as the API shows it: never its content.
func viewEmail(m store.SealedMail) wire.OutboxEmail {
	e := wire.OutboxEmail{
		ID:        m.ID,
		Kind:      m.Kind,
		To:        m.To,
		User:      m.UserEmail,
		Status:    string(m.Status),
		Attempts:  m.Attempts,
		LastError: m.LastError,
		Reason:    m.Reason,
		CreatedAt: m.CreatedAt,
		DoneAt:    m.DoneAt,
	}
	if m.Status == store.OutboxPending {
		e.NextAttempt = m.NextAttempt
	}
	return e
}

// GET /api/v1/outbox?status=S&after=ID&limit=N
func (a *api) listOutbox(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	status, err := store.ParseMailStatus(q.Get("status"))
	if err != nil {
		return badParam("status", "%q is not pending, sent, failed or dropped", q.Get("status"))
	}
	after, err := queryInt(q, "after", 0, 0, math.MaxInt64)
	if err != nil {
		return err
	}
	limit, err := queryLimit(q)
	if err != nil {
		return err
	}
	f := store.MailFilter{Status: status, After: after, Limit: limit}
	mails, err := a.outbox.ListMail(r.Context(), f)
	if err != nil {
		return err
	}
	out := wire.OutboxPage{Emails: make([]wire.OutboxEmail, 0, len(mails))}
	for _, m := range mails {
		out.Emails = append(out.Emails, viewEmail(m))
	}
	if len(mails) == limit {
		// A full page: look one further, as GET /users does.
		f.After, f.Limit = mails[len(mails)-1].ID, 1
		more, err := a.outbox.ListMail(r.Context(), f)
		if err != nil {
			return err
		}
		if len(more) > 0 {
			out.NextAfter = f.After
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /api/v1/outbox/{id}/retry
func (a *api) retryEmail(w http.ResponseWriter, r *http.Request) error {
	return a.changeEmail(w, r, a.outbox.RetryMail, "retried")
}

// DELETE /api/v1/outbox/{id}
func (a *api) dropEmail(w http.ResponseWriter, r *http.Request) error {
	return a.changeEmail(w, r, a.outbox.DropMail, "dropped")
}

// changeEmail applies change to the email the path names and answers with
// the email as it now is.
func (a *api) changeEmail(w http.ResponseWriter, r *http.Request, change func(context.Context, int64) (store.SealedMail, error), what string) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return notFound("email %s not found: IDs are whole numbers (dialin outbox list)", r.PathValue("id"))
	}
	subject := "email " + strconv.FormatInt(id, 10)
	var body struct{}
	if err := decodeBody(w, r, &body, true); err != nil {
		return err
	}
	m, err := change(r.Context(), id)
	if errors.Is(err, store.ErrMailDone) {
		cur, gerr := a.outbox.GetMail(r.Context(), id)
		if gerr != nil {
			return about(gerr, subject)
		}
		return conflict("%s was %s already: it cannot be %s", subject, cur.Status, what)
	}
	if err != nil {
		return about(err, subject)
	}
	writeJSON(w, http.StatusOK, viewEmail(m))
	return nil
}
