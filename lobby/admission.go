package lobby

// Admission is a meeting's rule for who waits in the lobby, from the
// directory's settings for its conference ID.
type Admission struct {
	// RequireOrganizer: callers wait until the organizer starts the
	// meeting. Without it anyone's call starts it (anonymous start), and
	// there is nobody to wait for.
	RequireOrganizer bool
	// Bypass: once the meeting is on, phone callers skip the lobby (the
	// seeds' dial-in bypass).
	Bypass bool
	// Auto: the start admits everyone waiting and later callers go
	// straight in (Skype for Business). Otherwise the lobby stays until the
	// organizer admits it (*21) or an administrator does (Teams).
	Auto bool
}

// Starts reports whether a caller starts the meeting by joining it.
func (a Admission) Starts(organizer bool) bool { return organizer || !a.RequireOrganizer }

// Waits reports whether a caller who does not start the meeting waits in
// the lobby, given whether the meeting is on.
func (a Admission) Waits(started bool) bool { return !started || !(a.Bypass || a.Auto) }

// AdmitsOnStart reports whether the meeting's start lets in everyone
// waiting.
func (a Admission) AdmitsOnStart() bool { return a.Auto }
