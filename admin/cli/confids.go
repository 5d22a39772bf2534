package cli

// dialin conference-id: reset, set, and email a user's conference ID.

import "github.com/dialin/dialin/admin/client"

func runConfIDReset(j *job, args []string) error {
	ch, err := j.client.ResetConferenceID(j.ctx, args[0], j.mailOptions())
	if err != nil {
		return err
	}
	return j.printConfIDChange(ch, "conference ID reset")
}

func runConfIDSet(j *job, args []string) error {
	set, what := j.client.SetConferenceID, "conference ID set"
	if j.line.has("no-check-digit") {
		set, what = j.client.ImportConferenceID, "conference ID imported (no check digit: the IVR cannot refuse typos of it by their form)"
	}
	ch, err := set(j.ctx, args[0], args[1], j.mailOptions())
	if err != nil {
		return err
	}
	return j.printConfIDChange(ch, what)
}

func (j *job) printConfIDChange(ch client.Change, what string) error {
	if j.json {
		return j.printJSON(ch.Raw)
	}
	j.block(ch.User.Email+": "+what,
		"conference ID", ch.User.ConferenceID+"  (the old one no longer works)",
		"email", j.emailLine(ch))
	return nil
}

func runConfIDSendInfo(j *job, args []string) error {
	ch, err := j.client.SendConferenceInfo(j.ctx, args[0], j.line.flags["email-to"])
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(ch.Raw)
	}
	j.block(ch.User.Email+": conference ID and dial-in numbers (no PIN)",
		"conference ID", conferenceIDText(ch.User.ConferenceID),
		"email", j.emailLine(ch))
	return nil
}
