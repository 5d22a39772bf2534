package store

import "context"

// Backend persists the directory. Every method is one transaction: it
// either happens completely or not at all. The Directory serialises
// writes, so a Backend need not order concurrent calls; it must be safe to
// call from one goroutine at a time.
//
// SQLite implements it (OpenSQLite); a PostgreSQL implementation for several
// nodes can follow with the same contract.
type Backend interface {
	// Load reads the Snapshot (see there: users without names, addresses
	// or dates); an empty store gives DefaultSettings and no users or
	// meetings.
	Load(ctx context.Context) (*Snapshot, error)
	// SaveSettings replaces the settings.
	SaveSettings(ctx context.Context, s Settings) error
	// CreateUser inserts u (setting u.ID) and, when meeting is not nil, its
	// static meeting. ErrExists if the email or conference ID is taken.
	CreateUser(ctx context.Context, u *User, meeting *Meeting) error
	// UpdateUser replaces every field of an existing user (not its ID or
	// conference ID). ErrNotFound if there is none.
	UpdateUser(ctx context.Context, u *User) error
	// SaveLockState replaces a user's failure counters and lock.
	SaveLockState(ctx context.Context, userID int64, lock LockState) error
	// ReplaceConferenceID moves a user's static meeting from oldID to
	// newID and updates the user, all at once. ErrExists if newID is taken.
	ReplaceConferenceID(ctx context.Context, userID int64, oldID, newID string) error
	// DeleteUser removes a user and every meeting it organizes.
	DeleteUser(ctx context.Context, userID int64) error
	// CreateMeeting inserts a meeting. ErrExists if its ID is taken.
	CreateMeeting(ctx context.Context, m *Meeting) error
	// DeleteMeeting removes a meeting. ErrNotFound if there is none.
	DeleteMeeting(ctx context.Context, conferenceID string) error
	// GetUser reads one user. ErrNotFound if there is none.
	GetUser(ctx context.Context, id int64) (User, error)
	// ListUsers reads up to limit users with IDs above afterID, by ID.
	ListUsers(ctx context.Context, afterID int64, limit int) ([]User, error)
	// ListMeetings reads the meetings an organizer has, static one included.
	ListMeetings(ctx context.Context, organizerID int64) ([]Meeting, error)
	// Close releases the store.
	Close() error
}
