package store

import (
	"context"
	"time"
)

// Backend persists the directory. Every method is one transaction: it
// either happens completely or not at all. The Directory serialises
// writes, so a Backend need not order concurrent calls; it must be safe to
// call from one goroutine at a time.
//
// Errors say what the call was doing (the engine, the operation, the key)
// and wrap ErrExists, ErrNotFound or ErrInvalidInput where a method says
// so, for errors.Is; any other error is a failure of the storage itself.
// Every call but Close takes the caller's context.
//
// The audit: every method that writes (everything but Load, the reads and
// Close) writes the *AuditEntry its context carries (AuditOf), if any and
// if its ID is still 0, in the same transaction as its change, and sets
// the ID once committed; a rolled-back change leaves no entry and the ID 0.
// So a change is never stored without its entry, nor an entry without its
// change. The Directory hands an entry to one write only.
//
// The Directory is its one consumer, so the store package defines it; the
// engines live in packages of their own, linked only by the program that
// picks one: store/sqlite (sqlite.Open), an embedded file, and
// store/postgres (postgres.Open), a server several nodes share. Both pass
// the same suite, store/storetest. A backend several nodes share also
// has a ChangeFeed (changefeed.go), which the Directory uses to keep its
// index current with the other nodes' changes.
type Backend interface {
	AdminAccountBackend // adminaccount.go
	AuditBackend        // audit.go
	ProbeBackend        // probe.go: the readiness check's write
	SignInLinkBackend   // signinlink.go: the self-service page's sign-in links

	// Load reads the Snapshot (see there: users without names, addresses
	// or dates); an empty store gives DefaultSettings and no users or
	// meetings.
	Load(ctx context.Context) (*Snapshot, error)
	// SaveSettings replaces the settings.
	SaveSettings(ctx context.Context, s Settings) error
	// CreateUser inserts u (setting u.ID) and, when meeting is not nil, its
	// static meeting, and when mail is not nil queues it (setting mail.ID).
	// ErrExists if the email or conference ID is taken.
	CreateUser(ctx context.Context, u *User, meeting *Meeting, mail *SealedMail) error
	// UpdateUser replaces every field of an existing user (not its ID or
	// conference ID) and queues mail when not nil. ErrNotFound if there is
	// no such user.
	UpdateUser(ctx context.Context, u *User, mail *SealedMail) error
	// SaveLockState replaces a user's failure counters and lock.
	SaveLockState(ctx context.Context, userID int64, lock LockState) error
	// ReplaceConferenceID moves a user's static meeting from oldID to
	// newID and updates the user, and queues mail when not nil, all at
	// once; the meeting's NoCheckDigit becomes !ValidConferenceID(newID).
	// ErrExists if newID is taken.
	ReplaceConferenceID(ctx context.Context, userID int64, oldID, newID string, mail *SealedMail) error
	// DeleteUser removes a user and every meeting it organizes.
	DeleteUser(ctx context.Context, userID int64) error
	// CreateMeeting inserts a meeting. ErrExists if its ID is taken.
	CreateMeeting(ctx context.Context, m *Meeting) error
	// DeleteMeeting removes a meeting. ErrNotFound if there is none.
	DeleteMeeting(ctx context.Context, conferenceID string) error
	// GetUser reads one user. ErrNotFound if there is none.
	GetUser(ctx context.Context, id int64) (User, error)
	// GetUserByEmail reads the user with this primary address, compared
	// case-insensitively. ErrNotFound if there is none.
	GetUserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers reads up to limit users with IDs above afterID, by ID.
	ListUsers(ctx context.Context, afterID int64, limit int) ([]User, error)
	// SearchUsers reads up to limit users with IDs above afterID, by ID,
	// whose email or display name starts with q (ASCII case ignored) or
	// whose conference ID starts with q (q all digits); "" lists them all.
	// It must stay as fast at a million users: indexes, no scan.
	SearchUsers(ctx context.Context, q string, afterID int64, limit int) ([]User, error)
	// ListMeetings reads meetings by conference ID (f.Limit <= 0: all).
	ListMeetings(ctx context.Context, f MeetingFilter) ([]Meeting, error)
	// GetMeeting reads one meeting. ErrNotFound if there is none.
	GetMeeting(ctx context.Context, conferenceID string) (Meeting, error)

	// SaveUserToken sets the user's self-service token hash, replacing any
	// earlier one. ErrNotFound if there is no such user.
	SaveUserToken(ctx context.Context, userID int64, hash []byte, createdAt time.Time) error
	// UserIDByToken finds the user whose token hash this is. ErrNotFound
	// if none.
	UserIDByToken(ctx context.Context, hash []byte) (userID int64, createdAt time.Time, err error)
	// DeleteUserToken removes the user's token. ErrNotFound if it has none.
	DeleteUserToken(ctx context.Context, userID int64) error

	// QueueMail queues an email on its own (setting mail.ID).
	QueueMail(ctx context.Context, mail *SealedMail) error
	// DueMail reads up to limit pending emails whose NextAttempt is not
	// after now, oldest first.
	DueMail(ctx context.Context, now time.Time, limit int) ([]SealedMail, error)
	// RecordMailFailure counts a failed attempt and sets the next one.
	RecordMailFailure(ctx context.Context, id int64, next time.Time, reason string) error
	// CountMail counts the pending emails.
	CountMail(ctx context.Context) (int, error)
	MailQueueBackend // mailqueue.go: the outbox's states, listing and pruning

	// Close releases the store.
	Close() error

	CallRecordBackend // call records (callrecords.go)
}

// SealedMail is a queued email as a Backend stores it: Kind, To and the
// states in clear, the MailContent sealed by the Directory (empty once the
// email is sent or dropped, and in listings).
type SealedMail struct {
	ID          int64
	Kind        string
	To          string
	Sealed      []byte
	Attempts    int
	NextAttempt time.Time
	LastError   string    // the last failed attempt's reason (the SMTP server's answer)
	CreatedAt   time.Time // when it was written: its Date header

	UserID    int64      // the user it is about; 0 in emails queued before schema 6
	UserEmail string     // that user's primary address, for the listing
	Status    MailStatus // OutboxPending when queued
	Reason    string     // why it was dropped or failed for good
	DoneAt    time.Time  // when it was sent, dropped or failed for good
	// Supersedes, on queueing only: pending emails this one replaces, which
	// are dropped in the same transaction.
	Supersedes []int64
}
