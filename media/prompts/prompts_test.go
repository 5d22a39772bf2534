package prompts

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/audiotest"
	"github.com/dialin/dialin/media"
)

// allPromptNames is every Prompt constant: the embedded set must be exactly
// these, so code and files cannot drift apart.
var allPromptNames = []string{
	Welcome, EnterConferenceID, NoDigits, Goodbye,
	// Digit's words, written out too.
	"digit_0", "digit_1", "digit_2", "digit_3", "digit_4",
	"digit_5", "digit_6", "digit_7", "digit_8", "digit_9",
	Star, Pound,
	InvalidConferenceID, OrganizerPressStar, EnterPIN, WrongPIN,
	PINLocked, JoinAsGuest, TryLater, Joining,
	TooManyAttempts, OnlyParticipant,
	MusicOnHold,
	LobbyNotice, LobbyNoticeStarted, LobbyTimeout,
	MeetingFull, MeetingIsLocked, MeetingEnded, Removed,
	HelpIntro, HelpPress, HelpHelp, HelpCount, HelpHand,
	HelpMute, HelpLock, HelpAdmit, HelpMuteAll, HelpAnnounce,
	ThereAre, ParticipantsInMeeting,
	HandRaised, HandLowered, Muted, Unmuted, MutedByOrganizer,
	MeetingLocked, MeetingUnlocked, LobbyAdmitted, LobbyEmpty,
	AttendeesMuted, AttendeesUnmuted, AnnouncementsOn, AnnouncementsOff,
	OrganizerOnly, InvalidKey, ParticipantOnHold,
	JoinTone, LeaveTone,
	// Number's words, written out rather than taken from the code
	// under test.
	"number_0", "number_1", "number_2", "number_3", "number_4",
	"number_5", "number_6", "number_7", "number_8", "number_9",
	"number_10", "number_11", "number_12", "number_13", "number_14",
	"number_15", "number_16", "number_17", "number_18", "number_19",
	"number_20", "number_30", "number_40", "number_50",
	"number_60", "number_70", "number_80", "number_90", "number_hundred",
}

func loadPrompts(t *testing.T, dir string) *Set {
	t.Helper()
	ps, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// rmsDBFS is the RMS level of pcm in dB relative to full scale.
func rmsDBFS(pcm []int16) float64 {
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(len(pcm)))
	return 20 * math.Log10(rms/32768)
}

func TestEmbeddedPromptsAreTheConstants(t *testing.T) {
	ps := loadPrompts(t, "")
	want := slices.Clone(allPromptNames)
	slices.Sort(want)
	if got := ps.Names(); !slices.Equal(got, want) {
		t.Errorf("embedded prompts %v\nconstants        %v", got, want)
	}
}

func TestEmbeddedPromptsAreSpeech(t *testing.T) {
	ps := loadPrompts(t, "")
	for _, name := range ps.Names() {
		p := ps.MustGet(name)
		if p.Name != name {
			t.Errorf("%s: Name is %q", name, p.Name)
		}
		if len(p.PCM) == 0 || len(p.PCM)%media.FrameSamples != 0 {
			t.Errorf("%s: %d samples, want a positive multiple of %d", name, len(p.PCM), media.FrameSamples)
		}
		for _, c := range []media.Codec{media.PCMU, media.PCMA} {
			if n := len(p.Frames(c)); n != len(p.PCM) || n%media.FrameBytes != 0 {
				t.Errorf("%s %v: %d bytes for %d samples", name, c, n, len(p.PCM))
			}
		}
		if p.FrameCount()*media.FrameSamples != len(p.PCM) {
			t.Errorf("%s: FrameCount %d for %d samples", name, p.FrameCount(), len(p.PCM))
		}
		if p.Duration() != time.Duration(p.FrameCount())*media.FrameDuration {
			t.Errorf("%s: Duration %v for %d frames", name, p.Duration(), p.FrameCount())
		}
		// The script normalises speech to -3 dBFS peak, which puts its RMS
		// near -20 dBFS, music near -21 and the tones near -16; silence or
		// a broken file would be far below -40.
		if level := rmsDBFS(p.PCM); level < -30 {
			t.Errorf("%s: RMS %.1f dBFS, too quiet to be a recording", name, level)
		}
		// Even "two" lasts a few hundred ms; nothing should be a click.
		if p.Duration() < 300*time.Millisecond {
			t.Errorf("%s: only %v long", name, p.Duration())
		}
	}
	if d := ps.MustGet(MusicOnHold).Duration(); d < 15*time.Second {
		t.Errorf("music on hold is %v, want a loop of some minutes", d)
	}
}

// G.711 companding keeps a signal-to-noise ratio near 38 dB on speech; a
// swapped law or an off-by-one frame would make it collapse.
func TestPromptFramesDecodeToPCM(t *testing.T) {
	ps := loadPrompts(t, "")
	for _, name := range ps.Names() {
		p := ps.MustGet(name)
		for _, c := range []media.Codec{media.PCMU, media.PCMA} {
			decoded := make([]int16, len(p.PCM))
			c.Decode(decoded, p.Frames(c))
			var signal, noise float64
			for i, s := range p.PCM {
				d := float64(s) - float64(decoded[i])
				signal += float64(s) * float64(s)
				noise += d * d
			}
			if snr := 10 * math.Log10(signal/noise); snr < 30 {
				t.Errorf("%s %v: SNR %.1f dB after decoding, want over 30", name, c, snr)
			}
		}
	}
}

func writeWAVFile(t *testing.T, path string, samples []int16) {
	t.Helper()
	var buf bytes.Buffer
	if err := audiotest.WriteWAV(&buf, samples); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPromptsOverride(t *testing.T) {
	dir := t.TempDir()
	tone := make([]int16, 1000) // not a whole number of frames
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	writeWAVFile(t, filepath.Join(dir, Welcome+".wav"), tone)
	// Hidden files and folders are not prompts and must not trip the check.
	os.WriteFile(filepath.Join(dir, ".DS_Store"), []byte("junk"), 0o644)
	os.Mkdir(filepath.Join(dir, "old"), 0o755)

	embedded := loadPrompts(t, "")
	ps := loadPrompts(t, dir)

	w := ps.MustGet(Welcome)
	if len(w.PCM) != 1120 || !slices.Equal(w.PCM[:1000], tone) {
		t.Errorf("welcome: %d samples, want the 1000-sample tone padded to 1120", len(w.PCM))
	}
	if slices.Equal(w.Frames(media.PCMU), embedded.MustGet(Welcome).Frames(media.PCMU)) {
		t.Error("welcome still plays the embedded recording")
	}
	want := make([]byte, len(w.PCM))
	media.PCMA.Encode(want, w.PCM)
	if !bytes.Equal(w.Frames(media.PCMA), want) {
		t.Error("welcome's A-law frames do not match its PCM")
	}
	g, e := ps.MustGet(Goodbye), embedded.MustGet(Goodbye)
	if !slices.Equal(g.PCM, e.PCM) {
		t.Error("goodbye changed although it was not overridden")
	}
	if !slices.Equal(ps.Names(), embedded.Names()) {
		t.Error("an override changed the set of names")
	}
}

func TestLoadPromptsOverrideErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		data  []byte
		wants []string // all in the error
	}{
		{"typo", "welcom.wav", audiotest.BuildWAV(pcm8k, audiotest.DataChunk(1, 2)), []string{"welcom.wav", "matches no prompt", "welcome.wav"}},
		{"not a .wav", "welcome.mp3", []byte("ID3"), []string{"welcome.mp3", "matches no prompt"}},
		{"wrong rate", "goodbye.wav", audiotest.BuildWAV(audiotest.FmtChunk(1, 1, 16000, 16), audiotest.DataChunk(1, 2)), []string{"goodbye.wav", "sample rate 16000 Hz, need 8000"}},
		{"stereo", "star.wav", audiotest.BuildWAV(audiotest.FmtChunk(1, 2, 8000, 16), audiotest.DataChunk(1, 2)), []string{"star.wav", "2 channels"}},
		{"garbage", "pound.wav", []byte("hello"), []string{"pound.wav", "not a RIFF file"}},
		{"empty recording", "joining.wav", audiotest.BuildWAV(pcm8k, audiotest.DataChunk()), []string{"joining.wav", "no samples"}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, tt.file), tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		ps, err := Load(dir)
		if err == nil {
			t.Errorf("%s: no error, got %d prompts", tt.name, len(ps.Names()))
			continue
		}
		for _, w := range tt.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tt.name, err, w)
			}
		}
	}
}

func TestLoadPromptsMissingOverrideDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("got %v, want an error naming the folder", err)
	}
}

func TestDigit(t *testing.T) {
	ps := loadPrompts(t, "")
	for _, key := range []byte("0123456789*#") {
		name := Digit(key)
		if _, ok := ps.Get(name); !ok {
			t.Errorf("Digit(%q) = %q, which is not a prompt", key, name)
		}
	}
	if Digit('7') != "digit_7" || Digit('*') != Star || Digit('#') != Pound {
		t.Error("Digit maps keys to the wrong prompts")
	}
	for _, key := range []byte("ABCD x\x00") {
		if name := Digit(key); name != "" {
			t.Errorf("Digit(%q) = %q, want \"\"", key, name)
		}
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "number_0"},
		{7, "number_7"},
		{10, "number_10"},
		{13, "number_13"},
		{19, "number_19"},
		{20, "number_20"},
		{45, "number_40 number_5"},
		{99, "number_90 number_9"},
		{100, "number_1 number_hundred"},
		{101, "number_1 number_hundred number_1"},
		{110, "number_1 number_hundred number_10"},
		{137, "number_1 number_hundred number_30 number_7"},
		{200, "number_2 number_hundred"},
		{219, "number_2 number_hundred number_19"},
		{370, "number_3 number_hundred number_70"},
		{999, "number_9 number_hundred number_90 number_9"},
		// Out of range: clamped.
		{1000, "number_9 number_hundred number_90 number_9"},
		{1 << 40, "number_9 number_hundred number_90 number_9"},
		{-1, "number_0"},
	}
	for _, tt := range tests {
		if got := strings.Join(Number(tt.n), " "); got != tt.want {
			t.Errorf("Number(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	// Every number says something, and only prompts that exist.
	ps := loadPrompts(t, "")
	for n := range 1000 {
		names := Number(n)
		if len(names) == 0 || len(names) > 4 {
			t.Fatalf("Number(%d) = %q", n, names)
		}
		for _, name := range names {
			if _, ok := ps.Get(name); !ok {
				t.Fatalf("Number(%d) = %q: no prompt %q", n, names, name)
			}
		}
	}
}

// The tones are made by sox synth, not espeak: check they are what the
// script says, two beeps at -12 dBFS peak with silence around them, so a
// changed script or sox cannot quietly turn them into something else.
func TestJoinLeaveTones(t *testing.T) {
	ps := loadPrompts(t, "")
	for _, name := range []string{JoinTone, LeaveTone} {
		p := ps.MustGet(name)
		if d := p.Duration(); d != 340*time.Millisecond {
			t.Errorf("%s: %v long, want 340 ms", name, d)
		}
		var peak int
		for _, s := range p.PCM {
			peak = max(peak, int(s), -int(s))
		}
		if db := 20 * math.Log10(float64(peak)/32767); math.Abs(db+12) > 0.1 {
			t.Errorf("%s: peak %.2f dBFS, want -12", name, db)
		}
		for _, i := range []int{0, 30*media.SampleRate/1000 - 1, len(p.PCM) - 30*media.SampleRate/1000} {
			if p.PCM[i] != 0 {
				t.Errorf("%s: sample %d is %d, want the silent padding", name, i, p.PCM[i])
			}
		}
	}
}

func TestPromptsGetAndMustGet(t *testing.T) {
	ps := loadPrompts(t, "")
	if _, ok := ps.Get("no_such_prompt"); ok {
		t.Error("Get found a prompt that does not exist")
	}
	names := ps.Names()
	names[0] = "changed"
	if ps.Names()[0] == "changed" {
		t.Error("Names returned the internal slice")
	}
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "no_such_prompt") {
			t.Errorf("MustGet panicked with %v, want the name", r)
		}
	}()
	ps.MustGet("no_such_prompt")
}

// Calls share the prompts; this lets the race detector check that playing
// them needs no lock.
func TestPromptsConcurrentUse(t *testing.T) {
	ps := loadPrompts(t, "")
	done := make(chan int)
	for g := 0; g < 8; g++ {
		go func() {
			sum := 0
			for _, name := range ps.Names() {
				p, _ := ps.Get(name)
				sum += int(p.Frames(media.PCMA)[0]) + p.FrameCount()
			}
			done <- sum
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}

// TestDropPCM: a prompt without its linear samples still plays (frames,
// count and duration come from the encoded audio); the kept ones keep them.
func TestDropPCM(t *testing.T) {
	ps, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	welcome := ps.MustGet(Welcome)
	frames, dur, ulaw := welcome.FrameCount(), welcome.Duration(), len(welcome.Frames(media.PCMU))
	ps.DropPCM(JoinTone, LeaveTone)
	if welcome.PCM != nil {
		t.Error("welcome kept its PCM")
	}
	if welcome.FrameCount() != frames || welcome.Duration() != dur || len(welcome.Frames(media.PCMU)) != ulaw || len(welcome.Frames(media.PCMA)) != ulaw {
		t.Errorf("after DropPCM: %d frames, %v, %d bytes; want %d, %v, %d", welcome.FrameCount(), welcome.Duration(), len(welcome.Frames(media.PCMU)), frames, dur, ulaw)
	}
	for _, name := range []string{JoinTone, LeaveTone} {
		if p := ps.MustGet(name); len(p.PCM) != p.FrameCount()*media.FrameSamples || len(p.PCM) == 0 {
			t.Errorf("%s: %d samples kept for %d frames", name, len(p.PCM), p.FrameCount())
		}
	}
}

var pcm8k = audiotest.FmtChunk(1, 1, 8000, 16) // format 1: PCM
