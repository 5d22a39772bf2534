package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/dialin/dialin/admin/client"
)

// adminsNote is the admin commands' help note.
func adminsNote() string {
	return "An administrator's account signs in to the admin center (/admin/) with its name and password; " +
		"the password is generated and shown once. The API token stays for the API and these commands."
}

func runAdminAdd(j *job, args []string) error {
	p, err := j.client.AddAdmin(j.ctx, args[0])
	if err != nil {
		return err
	}
	return j.printAdminPassword(p, "administrator added")
}

func runAdminPassword(j *job, args []string) error {
	p, err := j.client.ResetAdminPassword(j.ctx, args[0])
	if err != nil {
		return err
	}
	return j.printAdminPassword(p, "new password (the one before stops working)")
}

func (j *job) printAdminPassword(p client.AdminPassword, what string) error {
	if j.json {
		return j.printJSON(p.Raw)
	}
	j.block(p.Admin.Name+": "+what,
		"password", p.Password+"  "+shownOnce)
	return nil
}

func runAdminRemove(j *job, args []string) error {
	if err := j.client.RemoveAdmin(j.ctx, args[0]); err != nil {
		return err
	}
	if !j.json { // 204: no JSON to print
		fmt.Fprintf(j.out, "%s: removed\n", args[0])
	}
	return nil
}

func runAdminList(j *job, _ []string) error {
	admins, err := j.client.Admins(j.ctx)
	if err != nil {
		return err
	}
	if done, err := printList(j, admins, func(a client.Admin) json.RawMessage { return a.Raw },
		"No administrators: add one with dialin admin add NAME"); done {
		return err
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tPASSWORD SET")
	for _, a := range admins {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", cell(a.Name), timeText(a.CreatedAt), timeText(a.PasswordSetAt))
	}
	return tw.Flush()
}
