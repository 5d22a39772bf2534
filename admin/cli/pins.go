package cli

// dialin pin: reset, set and unlock a user's PIN.

import "fmt"

func runPINReset(j *job, args []string) error {
	ch, err := j.client.ResetPIN(j.ctx, args[0], j.mailOptions())
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(ch.Raw)
	}
	j.block(ch.User.Email+": PIN reset",
		"PIN", ch.PIN+"  "+shownOnce,
		"email", j.emailLine(ch))
	return nil
}

func runPINSet(j *job, args []string) error {
	ch, err := j.client.SetPIN(j.ctx, args[0], args[1])
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(ch.Raw)
	}
	fmt.Fprintf(j.out, "%s: PIN set (%d digits); no email sent\n", ch.User.Email, ch.User.PINLength)
	return nil
}

func runPINUnlock(j *job, args []string) error {
	ch, err := j.client.UnlockPIN(j.ctx, args[0])
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(ch.Raw)
	}
	fmt.Fprintf(j.out, "%s: PIN unlocked, failure counters cleared\n", ch.User.Email)
	return nil
}
