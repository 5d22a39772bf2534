package cli

// dialin report: the usage report.

import (
	"fmt"
	"text/tabwriter"

	"github.com/dialin/dialin/admin/client"
)

func runReportUsage(j *job, _ []string) error {
	from, err := timeFlag(j.line.flags["from"], "from")
	if err != nil {
		return err
	}
	to, err := timeFlag(j.line.flags["to"], "to")
	if err != nil {
		return err
	}
	organizer := j.line.flags["organizer"]
	if j.line.has("csv") {
		data, err := j.client.UsageCSV(j.ctx, from, to, organizer)
		if err != nil {
			return err
		}
		_, err = j.out.Write(data)
		return err
	}
	rep, err := j.client.Usage(j.ctx, from, to, organizer)
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(rep.Raw)
	}
	fmt.Fprintf(j.out, "Usage from %s to %s\n", timeText(rep.From), timeText(rep.To))
	if len(rep.Organizers) == 0 {
		fmt.Fprintln(j.out, "No calls reached a meeting")
		return nil
	}
	for _, part := range []struct {
		title string
		rows  []client.UsageRow
	}{{"\nPer organizer:", rep.Organizers}, {"\nPer meeting:", rep.Meetings}} {
		fmt.Fprintln(j.out, part.title)
		tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ORGANIZER\tCONFERENCE ID\tMEETINGS\tCALLS\tPARTICIPANT-MINUTES\tAVERAGE MOS")
		for _, u := range part.rows {
			avg := "-"
			if u.AverageMOS != nil {
				avg = fmt.Sprintf("%.2f (%d calls)", *u.AverageMOS, u.MeasuredCalls)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%.1f\t%s\n", cell(u.Organizer), cell(u.ConferenceID), u.Meetings, u.Calls,
				u.ParticipantMinutes, avg)
		}
		tw.Flush()
	}
	return nil
}
