package cli

// dialin calls: the call records.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// callsNote lists the outcomes --outcome takes.
func callsNote() string {
	return "Outcomes: joined, lobby (never admitted), not_found, gave_up, refused, abandoned (hung up in the menu),\n" +
		"cancelled (before the answer), failed. --caller matches the whole calling number.\n"
}

// callQuery is the filters of calls list from the flags.
func (j *job) callQuery() (client.CallQuery, error) {
	from, err := timeFlag(j.line.flags["from"], "from")
	if err != nil {
		return client.CallQuery{}, err
	}
	to, err := timeFlag(j.line.flags["to"], "to")
	if err != nil {
		return client.CallQuery{}, err
	}
	return client.CallQuery{From: from, To: to, ConferenceID: j.line.flags["conference-id"],
		Organizer: j.line.flags["organizer"], Calling: j.line.flags["caller"], Outcome: j.line.flags["outcome"]}, nil
}

// timeFlag is a time for the API: as given (2026-01-31, 2026-01-31T09:00:00Z),
// or an age before now (90m, 24h, 7d).
func timeFlag(v, name string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return time.Now().UTC().AddDate(0, 0, -n).Format(time.RFC3339), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return time.Now().UTC().Add(-d).Format(time.RFC3339), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if _, err := time.Parse(layout, v); err == nil {
			return v, nil
		}
	}
	return "", fmt.Errorf("--%s %q: give a date (2026-01-31), a time (2026-01-31T09:00:00Z) or an age (24h, 7d)", name, v)
}

func runCallsList(j *job, _ []string) error {
	q, err := j.callQuery()
	if err != nil {
		return err
	}
	if j.line.has("csv") {
		data, err := j.client.CallsCSV(j.ctx, q)
		if err != nil {
			return err
		}
		_, err = j.out.Write(data)
		return err
	}
	calls, err := j.client.AllCalls(j.ctx, q)
	if err != nil {
		return err
	}
	if done, err := printList(j, calls, func(c client.CallRecord) json.RawMessage { return c.Raw }, "No calls"); done {
		return err
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tCALL-ID\tCALLING\tCONFERENCE ID\tROLE\tOUTCOME\tDURATION\tLOBBY\tMOS IN/OUT\tEND REASON")
	for _, c := range calls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", timeText(c.StartedAt), cell(shorten(c.CallID, 24)),
			cell(c.Calling), cell(c.ConferenceID), cell(c.Role), c.Outcome, seconds(c.Duration), seconds(c.Lobby),
			mosText(c.ToUs)+"/"+mosText(c.FromUs), cell(c.EndReason))
	}
	tw.Flush()
	fmt.Fprintf(j.out, "%d call(s)\n", len(calls))
	return nil
}

func runCallsShow(j *job, args []string) error {
	if j.line.has("csv") {
		data, err := j.client.CallCSV(j.ctx, args[0])
		if err != nil {
			return err
		}
		_, err = j.out.Write(data)
		return err
	}
	c, err := j.client.Call(j.ctx, args[0])
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(c.Raw)
	}
	answered := "never"
	if c.AnsweredAt != nil {
		answered = timeText(*c.AnsweredAt)
	}
	rtt := "not measured"
	if c.RTT != nil {
		rtt = fmt.Sprintf("%.1f ms", *c.RTT)
	}
	j.block("",
		"call ID", cell(c.CallID),
		"calling", cell(c.Calling),
		"called", cell(c.Called),
		"source", cell(c.Source)+" ("+cell(c.Transport)+")",
		"started", timeText(c.StartedAt),
		"answered", answered,
		"ended", timeText(c.EndedAt),
		"duration", seconds(c.Duration),
		"SIP status", strconv.Itoa(c.SIPStatus),
		"outcome", c.Outcome,
		"conference ID", cell(c.ConferenceID),
		"organizer", cell(c.Organizer),
		"role", cell(c.Role),
		"lobby", seconds(c.Lobby),
		"end reason", cell(c.EndReason),
		"codec", cell(c.Codec),
		"DTMF", cell(c.DTMF),
		"round trip", rtt,
		"to us", qualityText(c.ToUs),
		"from us", qualityText(c.FromUs))
	return nil
}

func qualityText(q *client.CallQuality) string {
	if q == nil {
		return "not measured"
	}
	gap := "max gap unknown"
	if q.MaxGap != nil {
		gap = fmt.Sprintf("max gap %.0f ms", *q.MaxGap)
	}
	return fmt.Sprintf("MOS %.2f, %d packets, %d lost (%.1f %%), jitter %.1f ms, %s",
		q.MOS, q.Packets, q.Lost, q.LossPercent, q.Jitter, gap)
}

func mosText(q *client.CallQuality) string {
	if q == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", q.MOS)
}

// seconds is a duration in seconds with its unit (2m5s).
func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
