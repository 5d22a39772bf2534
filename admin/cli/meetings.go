package cli

// dialin meeting: the meetings of the directory, and the live control
// of started ones (live, start, end, admit, lock, mute, remove) through the bridge.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dialin/dialin/admin/client"
)

func runMeetingCreate(j *job, args []string) error {
	req := client.MeetingRequest{Organizer: args[0]}
	if j.line.has("no-require-organizer") {
		no := false
		req.RequireOrganizer = &no
	}
	if j.line.has("bypass-lobby") {
		yes := true
		req.BypassLobby = &yes
	}
	m, err := j.client.CreateMeeting(j.ctx, req)
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(m.Raw)
	}
	j.block(dash(m.Organizer)+": meeting created",
		"conference ID", m.ConferenceID,
		"require organizer", yesNo(m.RequireOrganizer),
		"bypass lobby", yesNo(m.BypassLobby))
	return nil
}

func runMeetingList(j *job, _ []string) error {
	meetings, err := j.client.AllMeetings(j.ctx, j.line.flags["organizer"])
	if err != nil {
		return err
	}
	if done, err := printList(j, meetings, func(m client.Meeting) json.RawMessage { return m.Raw }, "No meetings"); done {
		return err
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONFERENCE ID\tORGANIZER\tKIND\tREQUIRE ORGANIZER\tBYPASS LOBBY\tCREATED")
	for _, m := range meetings {
		kind := "meeting"
		if m.Static {
			kind = "static"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.ConferenceID, dash(m.Organizer), kind,
			admissionText(m.RequireOrganizer, m.Static), admissionText(m.BypassLobby, m.Static), timeText(m.CreatedAt))
	}
	tw.Flush()
	fmt.Fprintf(j.out, "%d meeting(s)\n", len(meetings))
	return nil
}

// admissionText is a meeting's admission flag as a call finds it: a static
// ID's follow the settings (anonymous-can-start, dial-in-bypass-lobby),
// which the server has applied already; this says where it comes from.
func admissionText(on, static bool) string {
	if static {
		return yesNo(on) + " (settings)"
	}
	return yesNo(on)
}

func checkDigitText(none bool) string {
	if none {
		return "none (imported): the IVR looks up every 7-digit entry, typos included"
	}
	return "yes"
}

func runMeetingShow(j *job, args []string) error {
	m, err := j.client.Meeting(j.ctx, args[0])
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(m.Raw)
	}
	kind := "meeting (its own conference ID)"
	if m.Static {
		kind = "the organizer's static conference ID"
	}
	l := m.Live
	if l == nil {
		l = &client.Live{} // the bridge knows nothing of it
	}
	j.block("",
		"conference ID", m.ConferenceID,
		"organizer", dash(m.Organizer),
		"kind", kind,
		"require organizer", admissionText(m.RequireOrganizer, m.Static),
		"bypass lobby", admissionText(m.BypassLobby, m.Static),
		"check digit", checkDigitText(m.NoCheckDigit),
		"created", timeText(m.CreatedAt),
		"started", yesNo(l.Started),
		"organizer present", yesNo(l.OrganizerPresent),
		"lobby", fmt.Sprintf("%d waiting", len(l.Lobby)),
		"participants", strconv.Itoa(len(l.Participants)))
	j.printLive(*l, time.Now())
	return nil
}

// printLive prints the lobby and the participants of a meeting as tables,
// with the ids that admit, mute and remove take.
func (j *job) printLive(l client.Live, now time.Time) {
	if len(l.Lobby) > 0 {
		fmt.Fprintln(j.out, "\nLobby:")
		tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tCALLER\tWAITING SINCE\tWAITING FOR")
		for _, c := range l.Lobby {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", cell(c.ID), cell(c.Caller), timeText(c.WaitingSince), waitedText(c.WaitingSince, now))
		}
		tw.Flush()
	}
	if len(l.Participants) > 0 {
		fmt.Fprintln(j.out, "\nParticipants:")
		tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tCALLER\tROLE\tMUTED\tHAND RAISED\tTALKING\tJOINED")
		for _, p := range l.Participants {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(p.ID), cell(p.Caller), cell(p.Role),
				yesNo(p.Muted), yesNo(p.HandRaised), yesNo(p.Talking), timeText(p.JoinedAt))
		}
		tw.Flush()
	}
}

// cell is a value for a table: "-" when empty, and nothing that would
// break the alignment or reach the terminal as a control character.
func cell(s string) string {
	return dash(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s))
}

// waitedText is how long someone has waited since since, to the second.
func waitedText(since, now time.Time) string {
	if since.IsZero() {
		return "-"
	}
	return max(now.Sub(since), 0).Round(time.Second).String()
}

// notEmpty refuses an empty argument: "" would address another route (or,
// for admit, everyone).
func notEmpty(args []string) error {
	for _, a := range args {
		if strings.TrimSpace(a) == "" {
			return &usageError{msg: "an empty argument: give the ID (admit: leave CALLER-ID out to admit everyone)"}
		}
	}
	return nil
}

func runMeetingDelete(j *job, args []string) error {
	if err := j.client.DeleteMeeting(j.ctx, args[0]); err != nil {
		return err
	}
	if !j.json { // 204: no JSON to print
		fmt.Fprintf(j.out, "meeting %s deleted; its conference ID no longer works\n", args[0])
	}
	return nil
}

func runMeetingStart(j *job, args []string) error {
	m, err := j.client.StartMeeting(j.ctx, args[0])
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(m.Raw)
	}
	l := m.Live
	if l == nil {
		l = &client.Live{}
	}
	j.block("meeting "+m.ConferenceID+" started",
		"started", yesNo(l.Started),
		"organizer present", yesNo(l.OrganizerPresent),
		"lobby", fmt.Sprintf("%d waiting", len(l.Lobby)),
		"participants", strconv.Itoa(len(l.Participants)))
	return nil
}

func runMeetingEnd(j *job, args []string) error {
	if err := j.client.EndMeeting(j.ctx, args[0]); err != nil {
		return err
	}
	if !j.json { // 204: no JSON to print
		fmt.Fprintf(j.out, "meeting %s ended; everyone in it and in its lobby was hung up\n", args[0])
	}
	return nil
}

func runMeetingAdmit(j *job, args []string) error {
	callerID := "" // everyone waiting
	if len(args) > 1 {
		callerID = args[1]
	}
	n, err := j.client.Admit(j.ctx, args[0], callerID)
	if err != nil {
		return err
	}
	if j.json {
		raw, err := json.Marshal(struct {
			Admitted int `json:"admitted"`
		}{n})
		if err != nil {
			return err
		}
		return j.printJSON(raw)
	}
	fmt.Fprintf(j.out, "admitted %d caller(s)\n", n)
	return nil
}

func runMeetingLock(j *job, args []string) error   { return setLocked(j, args[0], true) }
func runMeetingUnlock(j *job, args []string) error { return setLocked(j, args[0], false) }

func setLocked(j *job, id string, locked bool) error {
	if err := j.client.SetLocked(j.ctx, id, locked); err != nil {
		return err
	}
	if !j.json { // 204: no JSON to print
		if locked {
			fmt.Fprintf(j.out, "meeting %s locked: new callers but the organizer are refused\n", id)
		} else {
			fmt.Fprintf(j.out, "meeting %s unlocked\n", id)
		}
	}
	return nil
}

func runMeetingLive(j *job, _ []string) error {
	meetings, err := j.client.LiveMeetings(j.ctx)
	if err != nil {
		return err
	}
	if done, err := printList(j, meetings, func(m client.Meeting) json.RawMessage { return m.Raw }, "No live meetings"); done {
		return err
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONFERENCE ID\tORGANIZER\tSTATE\tPARTICIPANTS\tLOBBY\tLOCKED")
	for _, m := range meetings {
		l := m.Live
		if l == nil {
			l = &client.Live{}
		}
		state := "waiting for the organizer"
		if l.Started {
			state = "started"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", m.ConferenceID, dash(m.Organizer), state,
			len(l.Participants), len(l.Lobby), yesNo(l.Locked))
	}
	tw.Flush()
	fmt.Fprintf(j.out, "%d live meeting(s)\n", len(meetings))
	return nil
}

func runMeetingMute(j *job, args []string) error {
	muted := !j.line.has("off")
	if err := j.client.SetMuted(j.ctx, args[0], args[1], muted); err != nil {
		return err
	}
	if !j.json { // 204: no JSON to print
		what := "muted"
		if !muted {
			what = "unmuted"
		}
		fmt.Fprintf(j.out, "participant %s %s in meeting %s\n", args[1], what, args[0])
	}
	return nil
}

func runMeetingRemove(j *job, args []string) error {
	if err := j.client.RemoveCaller(j.ctx, args[0], args[1]); err != nil {
		return err
	}
	if !j.json { // 204: no JSON to print
		fmt.Fprintf(j.out, "%s removed from meeting %s and hung up\n", args[1], args[0])
	}
	return nil
}
