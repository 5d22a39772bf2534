package cli

// dialin outbox: the emails to users, as a mail queue: list them, send a
// failed one again, drop one that must not go out.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dialin/dialin/admin/client"
)

// outboxStatuses are the values of --status.
var outboxStatuses = []string{"pending", "sent", "failed", "dropped"}

func runOutboxList(j *job, _ []string) error {
	status := j.line.flags["status"]
	if status != "" && !slices.Contains(outboxStatuses, status) {
		return &usageError{msg: fmt.Sprintf("--status %q is not %s", status, strings.Join(outboxStatuses, ", "))}
	}
	emails, err := j.client.AllOutbox(j.ctx, status)
	if err != nil {
		return err
	}
	if done, err := printList(j, emails, func(e client.OutboxEmail) json.RawMessage { return e.Raw }, "No emails in the outbox"); done {
		return err
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTO\tSTATUS\tATTEMPTS\tWRITTEN\tWHEN\tLAST ERROR / REASON")
	for _, e := range emails {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.ID, e.Kind, e.To, e.Status, e.Attempts,
			timeText(e.CreatedAt), emailWhen(e), dash(emailWhy(e)))
	}
	tw.Flush()
	fmt.Fprintf(j.out, "%d email(s)\n", len(emails))
	return nil
}

// emailWhen is when a pending email is tried next, or when it was done.
func emailWhen(e client.OutboxEmail) string {
	if e.Status == "pending" {
		return "next " + timeText(e.NextAttempt)
	}
	return e.Status + " " + timeText(e.DoneAt)
}

// emailWhy is the reason a finished email did not go out, or the last
// error of a pending one; one line.
func emailWhy(e client.OutboxEmail) string {
	s := e.Reason
	if s == "" {
		s = e.LastError
	}
	return strings.Join(strings.Fields(s), " ")
}

func runOutboxRetry(j *job, args []string) error {
	id, _ := strconv.ParseInt(args[0], 10, 64) // checked by checkEmailID
	e, err := j.client.RetryEmail(j.ctx, id)
	if err != nil {
		return err
	}
	return j.printEmail(e, "sent again now (its facts are checked first: one no longer true is dropped)")
}

func runOutboxDrop(j *job, args []string) error {
	id, _ := strconv.ParseInt(args[0], 10, 64)
	e, err := j.client.DropEmail(j.ctx, id)
	if err != nil {
		return err
	}
	return j.printEmail(e, "dropped: it will not be sent")
}

func (j *job) printEmail(e client.OutboxEmail, what string) error {
	if j.json {
		return j.printJSON(e.Raw)
	}
	j.block(fmt.Sprintf("email %d: %s", e.ID, what),
		"kind", e.Kind,
		"to", e.To,
		"status", e.Status,
		"written", timeText(e.CreatedAt))
	return nil
}

// checkEmailID refuses an ID that is not a whole number above 0.
func checkEmailID(args []string) error {
	if id, err := strconv.ParseInt(args[0], 10, 64); err != nil || id < 1 {
		return &usageError{msg: fmt.Sprintf("%q is not an email ID: IDs are the numbers dialin outbox list shows", args[0])}
	}
	return nil
}
