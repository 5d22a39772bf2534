package cli

// dialin user: enable, disable, list, show, and issue a user's
// self-service token.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/admin/wire"
)

func runUserEnable(j *job, args []string) error {
	req := client.EnableRequest{
		Email:         args[0],
		DisplayName:   j.line.flags["name"],
		EmailOverride: j.line.flags["email-override"],
		EmailTo:       j.line.flags["email-to"],
	}
	if j.line.has("no-email") {
		no := false
		req.SendEmail = &no
	}
	ch, err := j.client.EnableUser(j.ctx, req)
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(ch.Raw)
	}
	j.block(ch.User.Email+": enabled for audio conferencing",
		"conference ID", conferenceIDText(ch.User.ConferenceID),
		"PIN", ch.PIN+"  "+shownOnce,
		"email", j.emailLine(ch))
	return nil
}

func runUserSet(j *job, args []string) error {
	var p client.UserPatch
	if o, ok := j.line.flags["email-override"]; ok {
		p.EmailOverride = &o
	}
	if v, ok := j.line.flags["pin-length"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return &usageError{msg: fmt.Sprintf("--pin-length %q is not a whole number", v)}
		}
		p.PINLength = &n
	}
	if p == (client.UserPatch{}) {
		return &usageError{msg: "user set: nothing to change: give --email-override ADDRESS (\"\" clears it) or --pin-length N"}
	}
	u, err := j.client.UpdateUser(j.ctx, args[0], p)
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(u.Raw)
	}
	override := u.EmailOverride
	if override == "" {
		override = "none: emails go to " + u.Email
	}
	length := "the pin-length setting"
	if u.Policy.Length != nil {
		length = fmt.Sprintf("%d digits", *u.Policy.Length)
	}
	j.block(u.Email+": changed",
		"email override", override+"  (emails already queued keep their address)",
		"PIN length", length+" for generated PINs, from the next reset (dialin pin reset "+u.Email+")",
		"PIN", pinText(u))
	return nil
}

func runUserDisable(j *job, args []string) error {
	if err := j.client.DisableUser(j.ctx, args[0]); err != nil {
		return err
	}
	if !j.json { // 204: no JSON to print
		fmt.Fprintf(j.out, "%s: disabled; its conference ID and meetings no longer work\n", args[0])
	}
	return nil
}

func runUserList(j *job, _ []string) error {
	search := strings.TrimSpace(j.line.flags["search"])
	users, err := j.client.AllFound(j.ctx, search)
	if err != nil {
		return err
	}
	empty := "No users: enable one with dialin user enable EMAIL"
	if search != "" {
		empty = fmt.Sprintf("No user's email, name or conference ID starts with %q", search)
	}
	if done, err := printList(j, users, func(u client.User) json.RawMessage { return u.Raw }, empty); done {
		return err
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tCONFERENCE ID\tPIN\tLOCKED\tCREATED")
	for _, u := range users {
		// Always the mask, whatever the server sends.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, dash(u.DisplayName), dash(u.ConferenceID),
			wire.MaskedPIN, yesNo(u.Locked), timeText(u.CreatedAt))
	}
	tw.Flush()
	fmt.Fprintf(j.out, "%d user(s)\n", len(users))
	return nil
}

func runUserShow(j *job, args []string) error {
	u, err := j.client.User(j.ctx, args[0])
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(u.Raw)
	}
	kv := []string{
		"email", u.Email,
		"display name", dash(u.DisplayName),
		"email override", dash(u.EmailOverride),
		"conference ID", conferenceIDText(u.ConferenceID),
		"PIN", pinText(u),
		"PIN lock", lockText(u),
	}
	if p := policyText(u); p != "" {
		kv = append(kv, "PIN policy", p)
	}
	kv = append(kv, "created", timeText(u.CreatedAt))
	j.block("", kv...)
	return nil
}

// pinText is the PIN line of a user: always the mask.
func pinText(u client.User) string {
	return fmt.Sprintf("%s  (%d digits, set %s)", wire.MaskedPIN, u.PINLength, timeText(u.PINSetAt))
}

func lockText(u client.User) string {
	var s string
	switch {
	case u.Lock.LockedByAdmin:
		s = "locked until unlocked: dialin pin unlock " + u.Email
	case u.Locked:
		s = "locked until " + timeText(u.Lock.LockedUntil)
	default:
		s = "not locked"
	}
	if u.Lock.Failures > 0 || u.Lock.TotalFailures > 0 {
		s += fmt.Sprintf(" (%d recent failures, %d in a row)", u.Lock.Failures, u.Lock.TotalFailures)
	}
	return s
}

// policyText is the user's own PIN policy, "" when the defaults apply.
func policyText(u client.User) string {
	p := u.Policy
	var parts []string
	if p.Length != nil {
		parts = append(parts, fmt.Sprintf("length %d", *p.Length))
	}
	if p.BlockCommon != nil {
		parts = append(parts, "block common PINs "+onOff(*p.BlockCommon))
	}
	if p.LocalLimit != nil {
		parts = append(parts, fmt.Sprintf("local limit %d", *p.LocalLimit))
	}
	if p.GlobalLimit != nil {
		parts = append(parts, fmt.Sprintf("global limit %d", *p.GlobalLimit))
	}
	return strings.Join(parts, ", ")
}

func runUserRevokeToken(j *job, args []string) error {
	if err := j.client.RevokeUserToken(j.ctx, args[0]); err != nil {
		return err
	}
	if !j.json { // 204: no JSON to print
		fmt.Fprintf(j.out, "%s: self-service token revoked\n", args[0])
	}
	return nil
}

func runUserToken(j *job, args []string) error {
	t, err := j.client.IssueUserToken(j.ctx, args[0])
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(t.Raw)
	}
	j.block(t.User.Email+": self-service token issued",
		"token", t.Token+"  "+shownOnce,
		"expires", timeText(t.ExpiresAt)+" (dialin user revoke-token "+t.User.Email+" ends it sooner)",
		"use", "give it to the user: "+envUserToken+"=TOKEN dialin me reset-pin (their earlier token stops working)")
	return nil
}
