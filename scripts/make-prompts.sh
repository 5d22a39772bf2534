#!/usr/bin/env bash
# make-prompts.sh regenerates the recorded prompts in media/prompts/ as
# 8 kHz mono 16-bit PCM WAV files: speech from espeak-ng, music-on-hold
# synthesised with sox. The WAVs are committed, so only whoever changes a
# prompt needs these tools; the build and the tests read the WAVs.
#
# Run from anywhere: bash scripts/make-prompts.sh (or: make prompts).
# The output is deterministic: same tools, same bytes.
set -euo pipefail

# The prompt set, one "name|text" per line. The name is the file name
# (name.wav) and the constant in media/prompts.go; keep the two in step.
PROMPTS=(
	"welcome|Welcome to the dial-in conference bridge."
	"enter_conference_id|Please enter your conference I D, followed by the pound key."
	"you_entered|You entered"
	"no_digits|We did not receive any digits."
	"goodbye|Thank you for calling. Goodbye."
	"digit_0|zero"
	"digit_1|one"
	"digit_2|two"
	"digit_3|three"
	"digit_4|four"
	"digit_5|five"
	"digit_6|six"
	"digit_7|seven"
	"digit_8|eight"
	"digit_9|nine"
	"star|star"
	"pound|pound"
	"invalid_conference_id|That conference I D was not found. Please try again."
	"organizer_press_star|If you are the organizer, press star now. Otherwise, please stay on the line."
	"enter_pin|Please enter your PIN, followed by the pound key."
	"wrong_pin|That PIN is not correct. Please try again."
	"pin_locked|Your PIN is locked."
	"join_as_guest|You will join the meeting as a guest."
	"lobby_wait|The meeting has not started yet. Please wait, and you will be admitted when it starts."
	"meeting_started|The meeting has started."
	"joining|You are now joining the meeting."
	"too_many_attempts|Too many failed attempts."
	"try_later|Please try again later. Goodbye."
	"left_meeting|A participant has left the meeting."
	"joined_meeting|A participant has joined the meeting."
	"only_participant|You are currently the only participant."
)

# Voice: US English at a calm 150 words per minute.
VOICE=(-v en-us -s 150)

# The one output format the bridge reads (see media/wav.go).
# -D: no dither, so the output does not depend on random numbers.
# --comment "": keep sox from adding a comment chunk.
OUTFMT=(-D --comment "" -r 8000 -c 1 -b 16 -e signed-integer)

die() {
	echo "make-prompts: $*" >&2
	exit 1
}

command -v espeak-ng >/dev/null 2>&1 ||
	die "espeak-ng not found; install it (apt-get install -y espeak-ng)"
command -v sox >/dev/null 2>&1 ||
	die "sox not found; install it (apt-get install -y sox)"

# Locale-independent number formatting for sox's note arguments.
export LC_ALL=C

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/media/prompts"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/gen"

# Speech. Trim leading and trailing silence (below 0.1% for 10 ms), resample
# to 8 kHz with sox's high-quality filter (after 6 dB of headroom, as its
# ringing can overshoot full scale), normalise to -3 dBFS peak, and
# keep 50 ms of silence at each end so words are not clipped when prompts
# are played back to back ("you entered" "one" "two").
for entry in "${PROMPTS[@]}"; do
	name="${entry%%|*}"
	text="${entry#*|}"
	espeak-ng "${VOICE[@]}" -w "$tmp/raw.wav" "$text" ||
		die "espeak-ng failed for $name"
	sox "$tmp/raw.wav" "${OUTFMT[@]}" "$tmp/gen/$name.wav" \
		silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse \
		gain -6 rate -v 8000 norm -3 pad 0.05 0.05 ||
		die "sox failed for $name"
done

# Music-on-hold: about 20 s, four chords (C, Am, F, G), each 5 s of a soft
# sine pad under a rising-and-falling arpeggio of sine notes. Every note and
# pad fades in and out, so the file starts and ends at zero and loops without
# a click. Notes are semitones from A440 (sox's %N): the arpeggio lies
# between 350 and 1320 Hz, inside the telephone band (300-3400 Hz), and the
# pad an octave below the chord as written.
NOTE_SECONDS=0.625 # 8 notes per 5 s chord
CHORDS=(
	# pad triad | arpeggio
	"3 7 10|3 7 10 15 19 15 10 7" # C major
	"0 3 7|0 3 7 12 15 12 7 3"    # A minor
	"-4 0 3|-4 0 3 8 12 8 3 0"    # F major
	"-2 2 5|-2 2 5 10 14 10 5 2"  # G major
)
arp=()
pads=()
i=0
for chord in "${CHORDS[@]}"; do
	padnotes="${chord%%|*}"
	arpnotes="${chord#*|}"
	set -- $padnotes
	sox -n -D -r 8000 -c 3 -b 16 "$tmp/triad.wav" \
		synth 5 sine "%$(($1 - 12))" sine "%$(($2 - 12))" sine "%$(($3 - 12))"
	sox "$tmp/triad.wav" -D -c 1 "$tmp/pad$i.wav" remix - fade h 1 5 1 vol 0.5
	pads+=("$tmp/pad$i.wav")
	j=0
	for n in $arpnotes; do
		f="$tmp/note${i}_$j.wav"
		sox -n -D -r 8000 -c 1 -b 16 "$f" \
			synth "$NOTE_SECONDS" sine "%$n" \
			fade h 0.02 "$NOTE_SECONDS" 0.45
		arp+=("$f")
		j=$((j + 1))
	done
	i=$((i + 1))
done
sox "${arp[@]}" -D "$tmp/arp.wav"
sox "${pads[@]}" -D "$tmp/pad.wav"
sox -m "$tmp/arp.wav" "$tmp/pad.wav" "${OUTFMT[@]}" "$tmp/gen/music_on_hold.wav" \
	norm -12 fade h 0.05 -0 0.05 ||
	die "sox failed for music_on_hold"

# Replace the old set only now that every file was made, so a failure
# leaves the committed prompts as they were; a prompt dropped from the list
# disappears with its file.
mkdir -p "$out"
rm -f "$out"/*.wav
mv "$tmp/gen/"*.wav "$out/"

for f in "$out"/*.wav; do
	printf '%-28s %6.2f s\n' "$(basename "$f")" "$(soxi -D "$f")"
done
