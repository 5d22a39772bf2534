package lobby

import "testing"

func TestAdmission(t *testing.T) {
	teams := Admission{RequireOrganizer: true}
	skype := Admission{RequireOrganizer: true, Auto: true}
	bypass := Admission{RequireOrganizer: true, Bypass: true}
	anonymous := Admission{}
	for _, tc := range []struct {
		name              string
		a                 Admission
		organizer         bool
		starts            bool
		waitsBefore       bool // before the start
		waitsAfter        bool // once the meeting is on
		admitsEveryoneNow bool
	}{
		{"teams organizer", teams, true, true, true, true, false},
		{"teams attendee", teams, false, false, true, true, false},
		{"skype attendee", skype, false, false, true, false, true},
		{"bypass attendee", bypass, false, false, true, false, false},
		{"anonymous start", anonymous, false, true, true, true, false},
	} {
		if got := tc.a.Starts(tc.organizer); got != tc.starts {
			t.Errorf("%s: Starts = %v, want %v", tc.name, got, tc.starts)
		}
		if got := tc.a.Waits(false); got != tc.waitsBefore {
			t.Errorf("%s: Waits(before the start) = %v, want %v", tc.name, got, tc.waitsBefore)
		}
		if got := tc.a.Waits(true); got != tc.waitsAfter {
			t.Errorf("%s: Waits(after the start) = %v, want %v", tc.name, got, tc.waitsAfter)
		}
		if got := tc.a.AdmitsOnStart(); got != tc.admitsEveryoneNow {
			t.Errorf("%s: AdmitsOnStart = %v, want %v", tc.name, got, tc.admitsEveryoneNow)
		}
	}
}
