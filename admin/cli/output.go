package cli

// What the API commands print: JSON as the API sent it, or aligned text.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// printJSON prints raw JSON indented.
func (j *job) printJSON(raw json.RawMessage) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("the API's answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := j.out.Write(buf.Bytes())
	return err
}

// printList starts a listing command's output: under --json it prints
// the items (raw, as the server sent them) as one array, and with no items
// it says none; done is true when nothing is left to print, else the
// caller prints its table.
func printList[T any](j *job, items []T, raw func(T) json.RawMessage, none string) (done bool, err error) {
	if j.json {
		raws := make([]json.RawMessage, len(items))
		for i, it := range items {
			raws[i] = raw(it)
		}
		return true, j.printJSONList(raws)
	}
	if len(items) == 0 {
		fmt.Fprintln(j.out, none)
		return true, nil
	}
	return false, nil
}

// printJSONList prints raw objects as one indented JSON array.
func (j *job) printJSONList(items []json.RawMessage) error {
	arr := []byte("[")
	for i, it := range items {
		if i > 0 {
			arr = append(arr, ',')
		}
		arr = append(arr, it...)
	}
	arr = append(arr, ']')
	return j.printJSON(arr)
}

// block prints aligned "key  value" lines under a title.
func (j *job) block(title string, kv ...string) {
	if title != "" {
		fmt.Fprintln(j.out, title)
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(tw, "  %s\t%s\n", kv[i], kv[i+1])
	}
	tw.Flush()
}

// mailOptions are the --no-email and --email-to flags.
func (j *job) mailOptions() client.MailOptions {
	return client.MailOptions{NoEmail: j.line.has("no-email"), To: j.line.flags["email-to"]}
}

// emailLine says what happened to the email of a change.
func (j *job) emailLine(ch client.Change) string {
	if ch.EmailQueued {
		to := j.line.flags["email-to"]
		if to == "" {
			to = ch.User.EmailOverride
		}
		if to == "" {
			to = ch.User.Email
		}
		return "queued to " + to
	}
	if j.line.has("no-email") {
		return "none sent (--no-email): pass the details on yourself"
	}
	return "none sent (the send-emails setting is off): pass the details on yourself"
}

const shownOnce = "(shown once: it will not be shown again)"

func conferenceIDText(id string) string {
	if id == "" {
		return "none (dynamic conference IDs: see dialin meeting create)"
	}
	return id
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
