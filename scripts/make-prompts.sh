#!/usr/bin/env bash
# make-prompts.sh regenerates the recorded prompts in media/prompts/ as
# 8 kHz mono 16-bit PCM WAV files: speech from espeak-ng and sox,
# music-on-hold from the Go program internal/musicgen. The WAVs are
# committed, so only whoever changes a prompt needs these tools; the build
# and the tests read the WAVs.
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
GO="${GO:-go}"
command -v "$GO" >/dev/null 2>&1 ||
	die "$GO not found; the music-on-hold generator is a Go program"

# Locale-independent number formatting (sox, soxi, printf).
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

# Music-on-hold: an original three-minute loop made by a Go program in this
# repository (internal/musicgen; see its doc comment), deterministic like
# the rest. Its tests check that the committed file is its output.
(cd "$root" && "$GO" run ./internal/musicgen -o "$tmp/gen/music_on_hold.wav") ||
	die "internal/musicgen failed for music_on_hold"

# Replace the old set only now that every file was made, so a failure
# leaves the committed prompts as they were; a prompt dropped from the list
# disappears with its file.
mkdir -p "$out"
rm -f "$out"/*.wav
mv "$tmp/gen/"*.wav "$out/"

for f in "$out"/*.wav; do
	printf '%-28s %6.2f s\n' "$(basename "$f")" "$(soxi -D "$f")"
done
