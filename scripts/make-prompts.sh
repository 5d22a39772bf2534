#!/usr/bin/env bash
# make-prompts.sh regenerates the recorded prompts in media/prompts/ as
# 8 kHz mono 16-bit PCM WAV files: speech from espeak-ng and sox, the join
# and leave tones from sox, music-on-hold from the Go program
# cmd/musicgen. The WAVs are committed, so only whoever changes a
# prompt needs these tools; the build and the tests read the WAVs.
#
# Run from anywhere: bash scripts/make-prompts.sh (or: make prompts).
# The output is deterministic: same tools, same bytes.
set -euo pipefail

# The prompt set, one "name|text" per line. The name is the file name
# (name.wav) and the constant in media/prompts/names.go (number_* have none:
# prompts.Number builds their names); keep the two in step.
PROMPTS=(
	"welcome|Welcome to the dial-in conference bridge."
	"enter_conference_id|Please enter your conference I D, followed by the pound key."
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
	"joining|You are now joining the meeting."
	"too_many_attempts|Too many failed attempts."
	"try_later|Please try again later. Goodbye."
	"only_participant|You are currently the only participant."
	"lobby_notice|You are in the lobby. The meeting will start when the organizer joins."
	"lobby_notice_started|You are in the lobby. You will join the meeting when the organizer admits you."
	"lobby_timeout|Nobody admitted you to the meeting, so this call will now end."
	"meeting_full|Sorry, this meeting is full."
	"meeting_is_locked|Sorry, this meeting is locked. New participants cannot join."
	"meeting_ended|The meeting has ended."
	"removed|You have been removed from the meeting."
	"help_intro|Here are the keys you can use in the meeting."
	"help_press|Press"
	"help_help|for help."
	"help_count|to hear how many people are in the meeting."
	"help_hand|to raise or lower your hand."
	"help_mute|to mute or unmute yourself."
	"help_lock|to lock or unlock the meeting."
	"help_admit|to admit everyone waiting in the lobby."
	"help_mute_all|to mute or unmute all attendees."
	"help_announce|to turn join and leave announcements on or off."
	"there_are|There are"
	"participants_in_meeting|participants in the meeting."
	"number_0|zero"
	"number_1|one"
	"number_2|two"
	"number_3|three"
	"number_4|four"
	"number_5|five"
	"number_6|six"
	"number_7|seven"
	"number_8|eight"
	"number_9|nine"
	"number_10|ten"
	"number_11|eleven"
	"number_12|twelve"
	"number_13|thirteen"
	"number_14|fourteen"
	"number_15|fifteen"
	"number_16|sixteen"
	"number_17|seventeen"
	"number_18|eighteen"
	"number_19|nineteen"
	"number_20|twenty"
	"number_30|thirty"
	"number_40|forty"
	"number_50|fifty"
	"number_60|sixty"
	"number_70|seventy"
	"number_80|eighty"
	"number_90|ninety"
	"number_hundred|hundred"
	"hand_raised|Your hand is raised."
	"hand_lowered|Your hand is lowered."
	"muted|You are muted."
	"unmuted|You are unmuted."
	"muted_by_organizer|The organizer has muted you."
	"meeting_locked|The meeting is now locked."
	"meeting_unlocked|The meeting is now unlocked."
	"lobby_admitted|Everyone in the lobby has been admitted."
	"lobby_empty|Nobody is waiting in the lobby."
	"attendees_muted|All attendees are muted."
	"attendees_unmuted|All attendees are unmuted."
	"announcements_on|Join and leave announcements are on."
	"announcements_off|Join and leave announcements are off."
	"organizer_only|Only the organizer can do that."
	"invalid_key|That key is not recognized."
)

# Notices spoken over a meeting, to everyone, while people talk: made like
# the speech above but normalised to -9 dBFS peak, so
# they sit below the voices around them (6 dB under the other prompts).
QUIET_PROMPTS=(
	"participant_on_hold|A participant has put the meeting on hold."
)

# Tones, not speech: one "name|freq dur freq dur" per line (Hz, seconds),
# the two beeps played one after the other. Rising for a join, falling for
# a leave, C5 and G5.
TONES=(
	"join_tone|523.25 0.12 784 0.16"
	"leave_tone|784 0.12 523.25 0.16"
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
speak() { # name text peak-dBFS
	espeak-ng "${VOICE[@]}" -w "$tmp/raw.wav" "$2" ||
		die "espeak-ng failed for $1"
	sox "$tmp/raw.wav" "${OUTFMT[@]}" "$tmp/gen/$1.wav" \
		silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse \
		gain -6 rate -v 8000 norm "$3" pad 0.05 0.05 ||
		die "sox failed for $1"
}
for entry in "${PROMPTS[@]}"; do
	speak "${entry%%|*}" "${entry#*|}" -3
done
for entry in "${QUIET_PROMPTS[@]}"; do
	speak "${entry%%|*}" "${entry#*|}" -9
done

# Tones: each beep a sine synthesised straight at 8 kHz (no resampling),
# with 10 ms fades so it does not click; the pair at -12 dBFS peak, so a
# beep sits below the speech around it; 30 ms of silence at each end. A
# single sine cannot pass for a DTMF key, which needs two at once. The
# beeps are kept in float until the end so the output is rounded once.
BEEPFMT=(-r 8000 -c 1 -e floating-point -b 32)
for entry in "${TONES[@]}"; do
	name="${entry%%|*}"
	read -r f1 d1 f2 d2 <<<"${entry#*|}"
	sox -n "${BEEPFMT[@]}" "$tmp/beep1.wav" synth "$d1" sine "$f1" fade h 0.01 "$d1" 0.01 ||
		die "sox failed for $name"
	sox -n "${BEEPFMT[@]}" "$tmp/beep2.wav" synth "$d2" sine "$f2" fade h 0.01 "$d2" 0.01 ||
		die "sox failed for $name"
	sox "$tmp/beep1.wav" "$tmp/beep2.wav" "${OUTFMT[@]}" "$tmp/gen/$name.wav" \
		norm -12 pad 0.03 0.03 ||
		die "sox failed for $name"
done

# Music-on-hold: an original three-minute loop made by a Go program in this
# repository (cmd/musicgen; see its doc comment), deterministic like
# the rest. Its tests check that the committed file is its output.
(cd "$root" && "$GO" run ./cmd/musicgen -o "$tmp/gen/music_on_hold.wav") ||
	die "cmd/musicgen failed for music_on_hold"

# Replace the old set only now that every file was made, so a failure
# leaves the committed prompts as they were; a prompt dropped from the list
# disappears with its file.
mkdir -p "$out"
rm -f "$out"/*.wav
mv "$tmp/gen/"*.wav "$out/"

for f in "$out"/*.wav; do
	printf '%-28s %6.2f s\n' "$(basename "$f")" "$(soxi -D "$f")"
done
