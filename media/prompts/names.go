// Package prompts is the bridge's spoken prompts and tones: their names,
// the recordings embedded beside this file (made by scripts/make-prompts.sh
// and committed), and loading them with an operator's overrides.
package prompts

import "strconv"

// The prompt names: the file names in this folder without ".wav". Callers
// use these constants, never string literals, so a typo fails to compile.
// Digits and numbers are named by Digit and Number.
const (
	Welcome             = "welcome"
	EnterConferenceID   = "enter_conference_id"
	NoDigits            = "no_digits"
	Goodbye             = "goodbye"
	Star                = "star"
	Pound               = "pound"
	InvalidConferenceID = "invalid_conference_id"
	OrganizerPressStar  = "organizer_press_star"
	EnterPIN            = "enter_pin"
	WrongPIN            = "wrong_pin"
	PINLocked           = "pin_locked"
	JoinAsGuest         = "join_as_guest"
	Joining             = "joining"
	TooManyAttempts     = "too_many_attempts"
	TryLater            = "try_later"
	OnlyParticipant     = "only_participant"
	MusicOnHold         = "music_on_hold"

	// The lobby, and why a call cannot join or was ended.
	LobbyNotice        = "lobby_notice"
	LobbyNoticeStarted = "lobby_notice_started"
	LobbyTimeout       = "lobby_timeout"
	MeetingFull        = "meeting_full"
	MeetingIsLocked    = "meeting_is_locked"
	MeetingEnded       = "meeting_ended"
	Removed            = "removed"

	// The help menu: HelpIntro, then for each key HelpPress, the key
	// (Digit) and what it does.
	HelpIntro    = "help_intro"
	HelpPress    = "help_press"
	HelpHelp     = "help_help"
	HelpCount    = "help_count"
	HelpHand     = "help_hand"
	HelpMute     = "help_mute"
	HelpLock     = "help_lock"
	HelpAdmit    = "help_admit"
	HelpMuteAll  = "help_mute_all"
	HelpAnnounce = "help_announce"

	// The head count: ThereAre, Number(n), ParticipantsInMeeting.
	ThereAre              = "there_are"
	ParticipantsInMeeting = "participants_in_meeting"

	// Answers to the in-meeting keys.
	HandRaised       = "hand_raised"
	HandLowered      = "hand_lowered"
	Muted            = "muted"
	Unmuted          = "unmuted"
	MutedByOrganizer = "muted_by_organizer"
	MeetingLocked    = "meeting_locked"
	MeetingUnlocked  = "meeting_unlocked"
	LobbyAdmitted    = "lobby_admitted"
	LobbyEmpty       = "lobby_empty"
	AttendeesMuted   = "attendees_muted"
	AttendeesUnmuted = "attendees_unmuted"
	AnnouncementsOn  = "announcements_on"
	AnnouncementsOff = "announcements_off"
	OrganizerOnly    = "organizer_only"
	InvalidKey       = "invalid_key"

	// Said quietly over the meeting to everyone: a participant holds the
	// bridge (their audio is left out of the mix until they resume).
	ParticipantOnHold = "participant_on_hold"

	// Tones, not speech: two short beeps, rising for a join and falling
	// for a leave, brief enough to play over a meeting.
	JoinTone  = "join_tone"
	LeaveTone = "leave_tone"
)

// Number names the prompts that say n in English words, as US
// English does, without "and": 137 is "one hundred thirty seven"
// (number_1 number_hundred number_30 number_7). The recordings go up to
// 999; n is clamped to 0..999, so a count too big to say is said as 999
// rather than as nothing.
func Number(n int) []string {
	n = max(0, min(n, 999))
	if n == 0 {
		return []string{"number_0"}
	}
	var names []string
	if h := n / 100; h > 0 {
		names = append(names, "number_"+strconv.Itoa(h), "number_hundred")
	}
	switch r := n % 100; {
	case r >= 20:
		names = append(names, "number_"+strconv.Itoa(r/10*10))
		if r%10 != 0 {
			names = append(names, "number_"+strconv.Itoa(r%10))
		}
	case r > 0:
		names = append(names, "number_"+strconv.Itoa(r))
	}
	return names
}

// Digit names the prompt that speaks a DTMF key: '0'-'9' → "digit_N",
// '*' → "star", '#' → "pound". Other keys (A-D) have no prompt: "".
func Digit(key byte) string {
	switch {
	case key >= '0' && key <= '9':
		return "digit_" + string(key)
	case key == '*':
		return Star
	case key == '#':
		return Pound
	}
	return ""
}
