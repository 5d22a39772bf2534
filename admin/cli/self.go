package cli

// dialin me: a user's own commands, with their own token (dialin user
// token EMAIL issues it), never the admin token.

import "github.com/dialin/dialin/admin/client"

func runMeShow(j *job, _ []string) error {
	u, err := j.client.Me(j.ctx)
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(u.Raw)
	}
	j.block("",
		"email", u.Email,
		"conference ID", conferenceIDText(u.ConferenceID),
		"PIN", pinText(u),
		"PIN lock", meLockText(u))
	return nil
}

// meLockText is lockText for the user: only an administrator unlocks.
func meLockText(u client.User) string {
	switch {
	case u.Lock.LockedByAdmin:
		return "locked: ask an administrator to unlock it"
	case u.Locked:
		return "locked until " + timeText(u.Lock.LockedUntil) + " (or ask an administrator to unlock it)"
	}
	return "not locked"
}

func runMeResetPIN(j *job, _ []string) error {
	ch, err := j.client.ResetOwnPIN(j.ctx)
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(ch.Raw)
	}
	j.block(ch.User.Email+": PIN reset",
		"PIN", ch.PIN+"  "+shownOnce,
		"email", "none (you reset it yourself)")
	return nil
}
