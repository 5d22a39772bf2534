#!/usr/bin/env bash
# bench-load.sh measures what the bridge costs per participant (make bench,
# make bench-load): CPU and memory with every caller streaming speech, and
# memory and goroutines after many calls came and went.
#
# Loopback only (127.0.0.1). sipp places the calls with
# testdata/sipp/load_participant.xml: INVITE, ACK, then it streams
# testdata/sipp/load_speech.ul (G.711 mu-law speech, 50 packets/s) to the
# bridge all call long and sends the conference ID (and the organizer's '*',
# PIN, '#') as SIP INFO keys 200 ms apart. The organizers, conference IDs
# and PINs come from the bridge's admin API; an injection file gives each
# call its row in call order.
#
# 1. Meetings (STEPS participants, MEETING_SIZE to a meeting): per meeting,
#    MEETING_SIZE-1 attendees dial in and wait in the lobby, then the
#    organizer joins with the PIN (ORG_DELAY_MS after answer) and the
#    meeting starts (lobby_admission auto). Once everyone is in, the
#    bridge's CPU (utime+stime, /proc/PID/stat, 100% = one core) is
#    measured over WINDOW_SECONDS, and its RSS (VmRSS) at the end; RSS
#    growth is counted over the idle bridge before the calls.
# 2. Lobby (LOBBY_STEPS callers): the same meetings without their
#    organizer: everyone waits in the lobby.
# 3. Floor (ECHO_STEPS participants): cmd/udpecho answers the same
#    calls and sends every RTP packet straight back: the same packet rate
#    with zero work. Its CPU is the floor under the bridge's.
# 4. Churn: CHURN_CALLS short calls (conference ID, lobby or meeting for
#    CHURN_HOLD_MS, BYE) at CHURN_RATE calls/s over CHURN_MEETINGS
#    meetings; RSS, live heap and goroutines (GET /api/v1/status)
#    CHURN_SETTLE_SECONDS after the calls are gone, after the first
#    CHURN_FIRST calls and after all of them.
#
# Every load step starts a fresh bridge (so RSS growth is the step's own).
# Each call's hold time comes from its row, so all calls of a step hang up
# together (spread over 2 s) right after the window. A fresh bridge logs at
# LOG_LEVEL (warn); with LOG_LEVEL=info the steps also count the bridge's
# "caller joined the meeting" lines (and per-call RTP counts) to prove the
# calls reached the lobby or the meeting. Whatever the level, each step
# checks that the bridge holds every call during the window, that the UDP
# packet rate on the machine is what the calls send, and, once the bridge
# reports meetings' live state, how many callers are in meetings and lobbies.
# Ends with markdown tables for BENCHMARKS.md.
#
# Every sipp is bounded by -timeout, every process this script starts is
# ended on exit. Whole run about 17 minutes with the defaults (the churn
# samples wait 150 s each).
#
# Environment: STEPS ("50 100 200 400"), LOBBY_STEPS ("200"), ECHO_STEPS
# (STEPS), MEETING_SIZE (10), RATE (calls/s while ramping up, 50),
# WINDOW_SECONDS (20), SETTLE_SECONDS (4, after the last caller should have
# joined; the checks run in its last 2 s), IDLE_SECONDS (2), ORG_DELAY_MS
# (7000), CHURN_CALLS (10000; 0 skips the churn), CHURN_FIRST (1000),
# CHURN_RATE (70), CHURN_HOLD_MS (1500), CHURN_MEETINGS (100),
# CHURN_SETTLE_SECONDS (150: how long after the calls a sample waits),
# CHURN_ORG_DELAY_MS (5500), LOG_LEVEL (warn), KEEP=1 keeps the work folder.
set -euo pipefail

STEPS=${STEPS-"50 100 200 400"}
LOBBY_STEPS=${LOBBY_STEPS-"200"}
ECHO_STEPS=${ECHO_STEPS-$STEPS}
MEETING_SIZE=${MEETING_SIZE:-10}
RATE=${RATE:-50}
WINDOW_SECONDS=${WINDOW_SECONDS:-20}
SETTLE_SECONDS=${SETTLE_SECONDS:-4}
IDLE_SECONDS=${IDLE_SECONDS:-2}
ORG_DELAY_MS=${ORG_DELAY_MS:-7000}
CHURN_CALLS=${CHURN_CALLS:-10000}
CHURN_FIRST=${CHURN_FIRST:-1000}
CHURN_RATE=${CHURN_RATE:-70}
CHURN_HOLD_MS=${CHURN_HOLD_MS:-1500}
CHURN_MEETINGS=${CHURN_MEETINGS:-100}
CHURN_ORG_DELAY_MS=${CHURN_ORG_DELAY_MS:-5500}
CHURN_SETTLE_SECONDS=${CHURN_SETTLE_SECONDS:-150}
LOG_LEVEL=${LOG_LEVEL:-warn}

# Timing of a call (ms after the ACK), as load_participant.xml does it: an
# attendee starts its keys after 300 ms; a key is an INFO, its 200 and a
# 200 ms pause; the IVR then plays "if you are the organizer, press star"
# (5.3 s) and waits ivr.organizer_wait (1 s) before the lobby.
ATTENDEE_WAIT_MS=300
KEY_MS=210
ATTENDEE_IN_MS=8500 # in the lobby by then
ORGANIZER_IN_MS=4000 # after its first key: ID, '#', '*', PIN, '#'
PACKETS_PER_CALL=50  # each way: 20 ms G.711 frames
TOKEN=bench-load-token-0123456789abcdef

die() {
	echo "bench-load: $*" >&2
	exit 1
}
say() {
	echo "bench-load: $*" >&2
}

command -v sipp >/dev/null 2>&1 || die "sipp not found: install sip-tester (apt-get install -y sip-tester)"
command -v go >/dev/null 2>&1 || die "go not found"
command -v curl >/dev/null 2>&1 || die "curl not found"
[[ "$(sipp -v 2>&1 || true)" == *RTPSTREAM* ]] || die "this sipp has no RTPSTREAM (exec rtp_stream): build it with -DUSE_PCAP=1 -DUSE_RTPSTREAM or install Debian's sip-tester 3.6+"
[[ "$MEETING_SIZE" -ge 2 ]] || die "MEETING_SIZE must be at least 2"
[[ "$SETTLE_SECONDS" -ge 2 ]] || die "SETTLE_SECONDS must be at least 2 (the checks run in its last 2 s)"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
SCENARIO=$root/testdata/sipp/load_participant.xml
SPEECH=$root/testdata/sipp/load_speech.ul
[[ -f "$SCENARIO" && -f "$SPEECH" ]] || die "missing $SCENARIO or $SPEECH"
work="$(mktemp -d)"
bridge_pid=""
echo_pid=""
sipp_pid=""

# stop_pid PID: SIGTERM, up to 5 s, then SIGKILL.
stop_pid() {
	local pid=$1
	[[ -n "$pid" ]] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop_pid "$sipp_pid"
	stop_pid "$echo_pid"
	stop_pid "$bridge_pid"
	if [[ "${KEEP:-}" == 1 ]]; then
		say "work folder kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One RTP socket per call on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# nap SECONDS: sleep that a signal interrupts at once (bash runs traps
# only after a foreground command, but during a wait).
nap() {
	sleep "$1" &
	wait $! || true
}
# sleep_until MS: sleep until the epoch time MS (ms).
sleep_until() {
	local d=$(($1 - $(now_ms)))
	if [[ $d -gt 0 ]]; then
		nap "$(awk -v d="$d" 'BEGIN { printf "%.3f", d / 1000 }')"
	fi
}
clk_tck=$(getconf CLK_TCK)
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# mib BYTES: MiB with one decimal ("?" stays "?").
mib() {
	awk -v b="$1" 'BEGIN { if (b + 0 == 0 && b != "0") print "?"; else printf "%.1f", b / 1048576 }'
}
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
# udp_counters: "InDatagrams RcvbufErrors" of the whole machine.
udp_counters() {
	awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next }
		print $c["InDatagrams"], $c["RcvbufErrors"] }' /proc/net/snmp
}
# sock_drops PORT: datagrams dropped so far on the 127.0.0.1:PORT UDP socket
# (receive buffer full; last column of /proc/net/udp).
sock_drops() {
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$hex" '$2 == a { d += $NF } END { print d + 0 }' /proc/net/udp 2>/dev/null || echo 0
}
# busy_ticks: CPU ticks the whole machine spent busy (all cores).
busy_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
# softirq_ticks: CPU ticks the machine spent in interrupts and softirqs
# (loopback UDP delivery is largely counted there, not in any process).
softirq_ticks() {
	awk '/^cpu / { print $7 + $8 }' /proc/stat
}
# proc_ticks: "pid ticks name" for every process.
proc_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk '{
		o = index($0, "("); r = match($0, /\) [A-Za-z] /)
		if (!o || !r) next
		split(substr($0, r + 2), f, " ")
		print $1, f[12] + f[13], substr($0, o + 1, r - o - 1) }' || true
}
# top_others BEFORE AFTER MS SKIP...: the two processes (not SKIP) that
# used the most CPU between two proc_ticks files, as "name N%".
top_others() {
	local before=$1 after=$2 ms=$3
	shift 3
	awk -v ms="$ms" -v hz="$clk_tck" -v skip=" $* " '
		NR == FNR { t[$1] = $2; next }
		index(skip, " " $1 " ") == 0 && ($1 in t) { d = $2 - t[$1]; if (d > 0) print d, $3 }' "$before" "$after" |
		sort -rn | head -2 | awk -v ms="$ms" -v hz="$clk_tck" '{ printf "%s%s %.0f%%", (NR > 1 ? ", " : ""), $2, $1 * 100000 / hz / ms }'
}
# pct TICKS MS: ticks as % of one core over MS milliseconds.
pct() {
	awk -v t="$1" -v ms="$2" -v hz="$clk_tck" 'BEGIN { printf "%.2f", t * 100000 / hz / ms }'
}
# stats DIR COLUMN: a column's value in the last row of DIR/stat.csv.
stats() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ v = $c } END { print (v == "" ? 0 : v) + 0 }' "$1/stat.csv" 2>/dev/null || echo 0
}

say "building the bridge and cmd/udpecho"
(cd "$root" && go build -o "$work/dialin" ./cmd/dialin && go build -o "$work/udpecho" ./cmd/udpecho) ||
	die "build failed"

api_port=""
sip_port=""
# api METHOD PATH [BODY]: the bridge's admin API; prints the body, fails
# unless 2xx.
api() {
	local args=(-sS --max-time 10 -H "Authorization: Bearer $TOKEN" -X "$1")
	if [[ $# -ge 3 ]]; then
		args+=(-H 'Content-Type: application/json' --data "$3")
	fi
	curl "${args[@]}" --fail-with-body "http://127.0.0.1:$api_port$2"
}
json_int() { # json_int FIELD: the first "FIELD": number on stdin
	grep -o "\"$1\": *[0-9]*" | head -1 | grep -o '[0-9]*$' || echo 0
}
# status FIELD: a number from GET /api/v1/status, "?" if the API does not
# answer (never fails).
status() {
	local resp
	resp=$(api GET /api/v1/status 2>/dev/null) || {
		echo "?"
		return 0
	}
	json_int "$1" <<<"$resp"
}
# held PID IDLE_FDS: udpecho's calls (its sockets beyond the idle ones).
held() {
	local fds
	fds=$(ls "/proc/$1/fd" 2>/dev/null | wc -l) || true
	if [[ "$fds" -gt 0 ]]; then
		echo $((fds - $2))
	else
		echo "?"
	fi
}

# start_bridge DIR: a fresh bridge (new data dir) on new ports; sets
# bridge_pid, sip_port, api_port.
start_bridge() {
	local dir=$1
	mkdir -p "$dir"
	sip_port=$(free_port 30000)
	api_port=$(free_port $((sip_port + 4)))
	cat >"$dir/bench.yaml" <<EOF
sip:
  listen: ["udp:127.0.0.1:$sip_port"]
rtp:
  port_min: 10000
  port_max: 29999
  inactivity_timeout: 30s
limits:
  max_calls: 10000
  shutdown_grace: 1s
ivr:
  organizer_wait: 1s
  guess_limit: 0
admin:
  listen: 127.0.0.1:$api_port
  token: $TOKEN
log:
  level: $LOG_LEVEL
  format: json
demo_organizer: false
data_dir: $dir/data
EOF
	"$work/dialin" serve --config "$dir/bench.yaml" >"$dir/bridge.log" 2>&1 &
	bridge_pid=$!
	for _ in $(seq 100); do
		if ! kill -0 "$bridge_pid" 2>/dev/null; then
			cat "$dir/bridge.log" >&2
			die "the bridge exited at start"
		fi
		if curl -fsS --max-time 1 "http://127.0.0.1:$api_port/api/v1/health" >/dev/null 2>&1 && ! port_free "$sip_port"; then
			break
		fi
		sleep 0.1
	done
	api PATCH /api/v1/settings '{"send_emails": false, "lobby_admission": "auto", "pin_length": 5}' >/dev/null ||
		die "PATCH /api/v1/settings failed"
}
stop_bridge() {
	stop_pid "$bridge_pid"
	bridge_pid=""
}

# make_meetings COUNT FILE: enable COUNT organizers; FILE gets
# "conference_id pin" per line.
make_meetings() {
	local n=$1 out=$2 i resp id pin
	: >"$out"
	for i in $(seq "$n"); do
		resp=$(api POST /api/v1/users "{\"email\": \"load-$i@example.com\", \"send_email\": false}") ||
			die "enabling load-$i@example.com failed: $resp"
		id=$(grep -o '"conference_id": *"[0-9]*"' <<<"$resp" | grep -o '[0-9]\{7\}')
		pin=$(grep -o '"pin": *"[0-9]*"' <<<"$resp" | grep -o '[0-9]\{5\}' || true)
		[[ -n "$id" && ${#pin} -eq 5 ]] || die "unexpected answer enabling load-$i@example.com: $resp"
		echo "$id $pin" >>"$out"
	done
}

# rows MODE N RATE END_MS SPREAD_MS MEETINGS_FILE: the injection file for N
# calls placed at RATE calls/s. MODE meeting: MEETING_SIZE-1 attendees then
# the organizer per meeting; lobby: attendees only; churn: like meeting,
# cycling over the meetings, every call staying CHURN_HOLD_MS in the lobby
# or the meeting. For meeting
# and lobby, call i holds until END_MS + i*SPREAD_MS/N after sipp's start.
rows() {
	awk -v mode="$1" -v n="$2" -v rate="$3" -v end="$4" -v spread="$5" -v size="$MEETING_SIZE" \
		-v await="$ATTENDEE_WAIT_MS" -v odelay="$ORG_DELAY_MS" -v cdelay="$CHURN_ORG_DELAY_MS" \
		-v key="$KEY_MS" -v chold="$CHURN_HOLD_MS" -v ain="$ATTENDEE_IN_MS" '
		{ id[NR - 1] = $1; pin[NR - 1] = $2; m = NR }
		END {
			print "SEQUENTIAL"
			for (i = 0; i < n; i++) {
				g = int(i / size) % m
				org = (mode != "lobby" && i % size == size - 1)
				wait = org ? (mode == "churn" ? cdelay : odelay) : await
				keys = org ? 15 : 8
				if (mode == "churn") {
					# From the lobby or the meeting on: an attendee gets
					# there ATTENDEE_IN_MS after the ACK, an organizer
					# right after its last key.
					hold = org ? chold + 500 : ain - wait - keys * key + chold
				} else {
					hold = int(end + i * spread / n - i * 1000 / rate - wait - keys * key)
					if (hold < 1000) hold = 1000
				}
				line = org ";" wait
				for (d = 1; d <= 7; d++) line = line ";" substr(id[g], d, 1)
				for (d = 1; d <= 5; d++) line = line ";" (org ? substr(pin[g], d, 1) : "-")
				print line ";" hold
			}
		}' "$6"
}

# start_sipp DIR TARGET_PORT CSV CALLS RATE TIMEOUT_S: sipp in DIR (which
# gets a link to the speech file); sets sipp_pid.
start_sipp() {
	local dir=$1 target=$2 csv=$3 calls=$4 rate=$5 timeout=$6
	local sp mp cp
	sp=$(free_port $((target + 4)))
	mp=$(free_port $((sp + 4)))
	cp=$(free_port $((mp + 4)))
	sipp_mp=$mp
	mkdir -p "$dir"
	ln -sf "$SPEECH" "$dir/load_speech.ul"
	(
		cd "$dir"
		exec sipp "127.0.0.1:$target" -sf "$SCENARIO" -inf "$csv" \
			-s conference -i 127.0.0.1 -mi 127.0.0.1 -p "$sp" -mp "$mp" -cp "$cp" \
			-r "$rate" -m "$calls" -l "$calls" -recv_timeout 15000 -timeout "${timeout}s" \
			-nostdin -trace_stat -stf stat.csv -fd 1 \
			-trace_err -error_file errors.log -trace_screen -screen_file screen.log \
			>sipp.out 2>&1
	) &
	sipp_pid=$!
}
# wait_sipp: wait for sipp to end; its exit status goes in sipp_rc.
wait_sipp() {
	sipp_rc=0
	wait "$sipp_pid" || sipp_rc=$?
	sipp_pid=""
}
# sipp_summary DIR RC: "ok failed" and a note when something failed.
sipp_failures() {
	local dir=$1 rc=$2 what=$3
	local ok failed attempted
	attempted=$(stats "$dir" "OutgoingCall(C)")
	ok=$(stats "$dir" "SuccessfulCall(C)")
	failed=$(stats "$dir" "FailedCall(C)")
	if [[ "$rc" -ne 0 || "$failed" -gt 0 ]]; then
		local top
		top=$(grep -o 'Call-Id: [^,]*, .*' "$dir/errors.log" 2>/dev/null | sed 's/^Call-Id: [^,]*, //' | cut -c1-110 |
			sort | uniq -c | sort -rn | head -3 | awk '{ $1 = $1 "x"; print }' | tr '\n' ';' || true)
		note "$what: sipp exit $rc, $attempted calls, $ok successful, $failed failed (no answer in time $(stats "$dir" "FailedTimeoutOnRecv(C)"), unexpected message $(stats "$dir" "FailedUnexpectedMessage(C)"), max UDP retransmissions $(stats "$dir" "FailedMaxUDPRetrans(C)"), $(stats "$dir" "Retransmissions(C)") retransmissions)${top:+; sipp errors: $top}"
	fi
	echo "$ok $failed"
}

# note TEXT: one line for the notes at the end (a file: notes are also
# taken inside command substitutions).
note() {
	printf -- '- %s\n' "$*" >>"$work/notes"
}
load_rows=""
echo_rows=""
declare -A echo_cpu

# A log line count in the bridge log of a step (LOG_LEVEL=info).
log_count() {
	grep -c "$2" "$1" 2>/dev/null || true
}

# live_counts MEETINGS_FILE: "participants lobby" summed over the meetings'
# live state (zeros while the bridge does not report it).
live_counts() {
	local p=0 l=0 id _pin resp
	while read -r id _pin; do
		resp=$(api GET "/api/v1/meetings/$id" 2>/dev/null) || continue
		if command -v jq >/dev/null 2>&1; then
			read -r a b < <(jq -r '"\(.live.participants | length) \(.live.lobby | length)"' <<<"$resp")
		else
			a=$(grep -o '"participants": *\[[^]]*\]' <<<"$resp" | grep -o '"caller"' | wc -l)
			b=$(grep -o '"lobby": *\[[^]]*\]' <<<"$resp" | grep -o '"caller"' | wc -l)
		fi
		p=$((p + a))
		l=$((l + b))
	done <"$1"
	echo "$p $l"
}

step_no=0
# load_step MODE N: one measured step (MODE meeting, lobby or echo).
load_step() {
	local mode=$1 n=$2
	step_no=$((step_no + 1)) # a step may be repeated (STEPS="50 50")
	local dir="$work/$mode-$n-$step_no"
	local meetings=$(((n + MEETING_SIZE - 1) / MEETING_SIZE))
	mkdir -p "$dir"
	say "$mode: $n participants ($meetings meetings of $MEETING_SIZE)"

	local pid target
	if [[ $mode == echo ]]; then
		target=$(free_port 30000)
		"$work/udpecho" -sip "127.0.0.1:$target" >"$dir/udpecho.log" 2>&1 &
		echo_pid=$!
		for _ in $(seq 50); do
			grep -q ready "$dir/udpecho.log" 2>/dev/null && break
			sleep 0.1
		done
		grep -q ready "$dir/udpecho.log" || die "udpecho did not start: $(cat "$dir/udpecho.log")"
		pid=$echo_pid
		echo "1234567 00000" >"$dir/meetings.txt" # udpecho takes any keys
	else
		start_bridge "$dir"
		pid=$bridge_pid
		target=$sip_port
		make_meetings "$meetings" "$dir/meetings.txt"
	fi

	# The idle process: RSS and CPU before any call.
	sleep 0.5
	local i0 i1 t0 t1
	i0=$(cpu_ticks "$pid")
	t0=$(now_ms)
	nap "$IDLE_SECONDS"
	i1=$(cpu_ticks "$pid")
	t1=$(now_ms)
	local idle_cpu idle_rss idle_fds
	idle_cpu=$(pct $((i1 - i0)) $((t1 - t0)))
	idle_rss=$(rss_kb "$pid")
	idle_fds=$(ls "/proc/$pid/fd" | wc -l)

	# When the last caller is in, and when the window ends (ms after sipp starts).
	local ramp=$(((n - 1) * 1000 / RATE)) join
	case $mode in
	meeting) join=$((ORG_DELAY_MS + ORGANIZER_IN_MS)) ;;
	lobby) join=$ATTENDEE_IN_MS ;;
	echo) join=$((ATTENDEE_WAIT_MS + 8 * KEY_MS)) ;;
	esac
	local win_start=$((ramp + join + SETTLE_SECONDS * 1000))
	local win_end=$((win_start + WINDOW_SECONDS * 1000))
	local spread=2000
	local rowmode=$mode
	[[ $mode == echo ]] && rowmode=lobby
	rows "$rowmode" "$n" "$RATE" $((win_end + 1000)) "$spread" "$dir/meetings.txt" >"$dir/calls.csv"

	local s0
	s0=$(now_ms)
	start_sipp "$dir/sipp" "$target" "$dir/calls.csv" "$n" "$RATE" $(((win_end + spread) / 1000 + 30))
	local spid=$sipp_pid
	# Shortly before the window: did every call get in, and where is it?
	# (The checks cost the bridge some CPU, so they stay outside the window.)
	sleep_until $((s0 + win_start - 2000))
	local calls0=- calls1=- joined=- waiting=- admitted=- organizers=- live="-"
	if ! kill -0 "$spid" 2>/dev/null; then
		note "$mode $n: sipp ended before the window."
	fi
	if [[ $mode != echo ]]; then
		calls0=$(status calls)
		local lp ll
		read -r lp ll < <(live_counts "$dir/meetings.txt")
		if [[ $((lp + ll)) -gt 0 ]]; then
			live="$lp in meetings, $ll in lobbies"
			local want_p=$n want_l=0
			if [[ $mode == lobby ]]; then
				want_p=0
				want_l=$n
			fi
			if [[ $lp -ne $want_p || $ll -ne $want_l ]]; then
				note "$mode $n: live state before the window: $lp in meetings and $ll in lobbies, expected $want_p and $want_l."
			fi
		fi
		if [[ $LOG_LEVEL == info || $LOG_LEVEL == debug ]]; then
			joined=$(log_count "$dir/bridge.log" '"caller joined the meeting"')
			waiting=$(grep '"caller joined the meeting"' "$dir/bridge.log" | grep -c '"waiting":true' || true)
			admitted=$(log_count "$dir/bridge.log" 'caller admitted')
			organizers=$(log_count "$dir/bridge.log" '"organizer PIN accepted"')
			if [[ $joined -ne $n ]]; then
				note "$mode $n: only $joined of $n callers logged \"caller joined the meeting\" before the window."
			fi
		fi
	else
		calls0=$(held "$pid" "$idle_fds")
	fi
	sleep_until $((s0 + win_start))

	# The window.
	local c0 c1 sc0 sc1 b0 b1 q0 q1 u0 u1 d0 d1 m0 m1 w0 w1
	proc_ticks >"$dir/procs0"
	c0=$(cpu_ticks "$pid")
	sc0=$(cpu_ticks "$spid")
	b0=$(busy_ticks)
	q0=$(softirq_ticks)
	read -r u0 d0 < <(udp_counters)
	m0=$(sock_drops "$sipp_mp")
	w0=$(now_ms)
	sleep_until $((s0 + win_end))
	c1=$(cpu_ticks "$pid")
	sc1=$(cpu_ticks "$spid")
	b1=$(busy_ticks)
	q1=$(softirq_ticks)
	read -r u1 d1 < <(udp_counters)
	m1=$(sock_drops "$sipp_mp")
	w1=$(now_ms)
	proc_ticks >"$dir/procs1"
	local rss
	rss=$(rss_kb "$pid")
	local ms=$((w1 - w0))
	local cpu sipp_cpu other_cpu softirq pps sipp_drops drops
	cpu=$(pct $((c1 - c0)) "$ms")
	sipp_cpu=$(pct $((sc1 - sc0)) "$ms")
	# /proc/stat and the processes' own counters tick apart: a few % either
	# way is noise, below 0 shows as 0.
	other_cpu=$(pct $((b1 - b0 - (c1 - c0) - (sc1 - sc0))) "$ms" | awk '{ v = $1 + 0; printf "%.2f", (v < 0 ? 0 : v) }')
	softirq=$(pct $((q1 - q0)) "$ms")
	# Datagrams that reached the machine's sockets, dropped or not: sipp
	# never reads its media port (the bridge's audio is dropped there);
	# drops anywhere else (the bridge's or udpecho's RTP sockets) are noted.
	pps=$(awk -v d=$((u1 - u0 + d1 - d0)) -v ms="$ms" 'BEGIN { printf "%.0f", d * 1000 / ms }')
	sipp_drops=$(awk -v d=$((m1 - m0)) -v ms="$ms" 'BEGIN { printf "%.0f", d * 1000 / ms }')
	drops=$(awk -v d=$((d1 - d0 - (m1 - m0))) -v ms="$ms" 'BEGIN { printf "%.0f", d * 1000 / ms }')
	local expect=$((2 * n * PACKETS_PER_CALL))

	# Still every call at the end of the window?
	if [[ $mode == echo ]]; then
		calls1=$(held "$pid" "$idle_fds")
	else
		calls1=$(status calls)
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		note "$mode $n: the $([[ $mode == echo ]] && echo udpecho || echo bridge) exited during the step; its log ends: $(tail -3 "$dir/$([[ $mode == echo ]] && echo udpecho.log || echo bridge.log)" | tr '\n' ' ' | cut -c1-400)"
	fi
	if [[ "$calls0" != "$n" || "$calls1" != "$n" ]]; then
		note "$mode $n: the $([[ $mode == echo ]] && echo udpecho || echo bridge) held $calls0 calls just before the window and $calls1 at its end, expected $n."
	fi
	if [[ $ms -lt $((WINDOW_SECONDS * 900)) ]]; then
		note "$mode $n: the window lasted only $ms ms (the checks before it ran late)."
	fi
	if awk -v p="$pps" -v e="$expect" 'BEGIN { exit !(p < e * 0.95) }'; then
		note "$mode $n: $pps UDP datagrams/s arrived during the window, expected about $expect (every call's RTP both ways)."
	fi
	if [[ $drops -gt $((expect / 200)) ]]; then
		note "$mode $n: $drops UDP datagrams/s dropped (receive buffer full) on sockets other than sipp's media port: the $([[ $mode == echo ]] && echo udpecho || echo bridge) did not keep up."
	fi
	if awk -v o="$other_cpu" -v q="$softirq" 'BEGIN { exit !(o - q > 10) }'; then
		note "$mode $n: other processes used $(awk -v o="$other_cpu" -v q="$softirq" 'BEGIN { printf "%.0f", o - q }')% of a core during the window (most: $(top_others "$dir/procs0" "$dir/procs1" "$ms" "$pid" "$spid" "$$")): the figures may be disturbed."
	fi

	# Hang up (the rows end every call by now) and collect sipp's counts.
	local ok failed
	wait_sipp
	read -r ok failed < <(sipp_failures "$dir/sipp" "$sipp_rc" "$mode $n")
	local rtp_note=""
	if [[ $mode != echo ]] && [[ $LOG_LEVEL == info || $LOG_LEVEL == debug ]]; then
		sleep 1
		# Packets the bridge received per call over the whole call, from its "call ended" lines.
		rtp_note=$(grep '"call ended"' "$dir/bridge.log" | grep -o '"rtp_received":[0-9]*' | cut -d: -f2 |
			awk '{ s += $1; if (min == "" || $1 < min) min = $1; n++ } END { if (n) printf "%d calls ended, RTP received per call min %d, mean %.0f", n, min, s / n }')
	fi
	if [[ $mode == echo ]]; then
		stop_pid "$echo_pid"
		echo_pid=""
	else
		stop_bridge
	fi

	local per_cpu rss_per
	per_cpu=$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.4f", c / n }')
	rss_per=$(awk -v r="$rss" -v i="$idle_rss" -v n="$n" 'BEGIN { printf "%.1f", (r - i) / n }')
	local rss_mib idle_mib
	rss_mib=$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')
	idle_mib=$(awk -v r="$idle_rss" 'BEGIN { printf "%.1f", r / 1024 }')
	if [[ "$rss" -eq 0 ]]; then # the process was gone at the end of the window
		cpu="-" per_cpu="-" rss_mib="-" rss_per="-"
	fi
	say "$mode $n: CPU ${cpu}% (idle ${idle_cpu}%), ${per_cpu}% per participant, RSS ${idle_mib} -> ${rss_mib} MiB (${rss_per} KiB each), sipp ${sipp_cpu}%, other ${other_cpu}% (softirq ${softirq}%), UDP ${pps}/s (expected ${expect}), dropped ${drops}/s (+ ${sipp_drops}/s unread at sipp), calls ${calls0}/${calls1}, sipp ok ${ok} failed ${failed}${joined:+, joined $joined (waiting $waiting), admitted $admitted, organizers $organizers}${rtp_note:+, $rtp_note}; live: $live"

	if [[ $mode == echo ]]; then
		echo_cpu[$n]="$cpu $per_cpu"
		echo_rows+="| $n | ${cpu}% | ${per_cpu}% | ${idle_cpu}% | ${sipp_cpu}% | $pps / $expect | $ok / $failed |"$'\n'
	else
		local target_cpu=0.08
		[[ $mode == lobby ]] && target_cpu=0.06
		local verdict_cpu verdict_rss
		verdict_cpu=$(awk -v p="$per_cpu" -v t="$target_cpu" 'BEGIN { print (p == "-" ? "n/a" : p + 0 <= t ? "ok" : "over") }')
		verdict_rss=$(awk -v p="$rss_per" 'BEGIN { print (p == "-" ? "n/a" : p + 0 <= 64 ? "ok" : "over") }')
		local state="$calls0 calls before, $calls1 at the end"
		[[ $live != - ]] && state+="; $live"
		[[ $joined != - ]] && state+="; log: $joined joined ($waiting to the lobby), $admitted admitted, $organizers organizers"
		load_rows+="$mode|$n|$meetings|$cpu|$idle_cpu|$per_cpu|$target_cpu|$verdict_cpu|$idle_mib|$rss_mib|$rss_per|$verdict_rss|$sipp_cpu|${other_cpu}% (${softirq}%)|$pps|$expect|$ok|$failed|$state"$'\n'
	fi
}

for n in $STEPS; do
	load_step meeting "$n"
done
for n in $LOBBY_STEPS; do
	load_step lobby "$n"
done
for n in $ECHO_STEPS; do
	load_step echo "$n"
done

# Churn: one bridge, CHURN_FIRST calls, then the rest.
churn_rows=""
if [[ "$CHURN_CALLS" -gt 0 ]]; then
	dir="$work/churn"
	say "churn: $CHURN_CALLS calls at $CHURN_RATE calls/s over $CHURN_MEETINGS meetings"
	start_bridge "$dir"
	make_meetings "$CHURN_MEETINGS" "$dir/meetings.txt"
	sleep 1
	# sample LABEL CALLS: wait for the calls to be gone, then RSS and goroutines.
	sample() {
		local calls=1 g
		for _ in $(seq 60); do
			calls=$(status calls)
			[[ "$calls" == 0 ]] && break
			kill -0 "$bridge_pid" 2>/dev/null || break
			sleep 0.5
		done
		[[ "$calls" == 0 ]] || note "churn, $1: the bridge held $calls calls 30 s after sipp ended (? = no answer from its API)."
		# SIP keeps each finished transaction ~32 s (Timer J) to absorb
		# retransmissions, and the Go runtime hands free memory back to the
		# system a few minutes after a busy spell: sample once both are over.
		local waited=0
		while [[ $waited -lt $CHURN_SETTLE_SECONDS ]]; do
			sleep 10
			waited=$((waited + 10))
			say "churn, $1: +${waited} s: RSS $(($(rss_kb "$bridge_pid") / 1024)) MiB, live heap $(($(status heap_live_bytes) / 1048576)) MiB, Go holds $(($(status go_held_bytes) / 1048576)) MiB"
		done
		sleep 2
		g=$(status goroutines)
		echo "$(rss_kb "$bridge_pid") $g $calls $(status heap_live_bytes)"
	}
	read -r rss_idle g_idle _ live_idle < <(CHURN_SETTLE_SECONDS=0 sample "idle")
	churn_rows+="| idle bridge | 0 | $(awk -v r="$rss_idle" 'BEGIN { printf "%.1f", r / 1024 }') | $(mib "$live_idle") | $g_idle |"$'\n'
	done_calls=0
	for phase in first rest; do
		if [[ $phase == first ]]; then
			count=$CHURN_FIRST
		else
			count=$((CHURN_CALLS - CHURN_FIRST))
		fi
		[[ $count -gt 0 ]] || continue
		# Rows continue the meeting cycle where the last phase stopped.
		rows churn $((done_calls + count)) "$CHURN_RATE" 0 0 "$dir/meetings.txt" |
			awk -v skip="$done_calls" 'NR == 1 || NR > skip + 1' >"$dir/$phase.csv"
		t0=$(now_ms)
		start_sipp "$dir/sipp-$phase" "$sip_port" "$dir/$phase.csv" "$count" "$CHURN_RATE" $((count / CHURN_RATE + 60))
		wait_sipp
		t1=$(now_ms)
		read -r ok failed < <(sipp_failures "$dir/sipp-$phase" "$sipp_rc" "churn ($phase $count calls)")
		done_calls=$((done_calls + count))
		read -r rss g calls live < <(sample "after $done_calls calls")
		say "churn: $done_calls calls done ($ok ok, $failed failed in this part, $(((t1 - t0) / 1000)) s): RSS $((rss / 1024)) MiB, live heap $(mib "$live") MiB, $g goroutines"
		churn_rows+="| after $done_calls calls | $done_calls | $(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }') | $(mib "$live") | $g | $ok / $failed |"$'\n'
		if [[ $phase == first ]]; then
			rss_first=$rss
			g_first=$g
		else
			rss_last=$rss
			g_last=$g
		fi
	done
	if [[ $LOG_LEVEL == info || $LOG_LEVEL == debug ]]; then
		say "churn log: $(log_count "$dir/bridge.log" '"caller joined the meeting"') joined ($(grep '"caller joined the meeting"' "$dir/bridge.log" | grep -c '"waiting":true' || true) to the lobby), $(log_count "$dir/bridge.log" 'caller admitted') admitted, $(log_count "$dir/bridge.log" '"organizer PIN accepted"') organizers"
	fi
	stop_bridge
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
echo
echo "Load, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $(go version | awk '{print $3}'), sipp $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -1 || true) and the bridge on the same machine over 127.0.0.1 UDP."
echo "Every caller streams G.711 speech (50 packets/s) the whole call; meetings of $MEETING_SIZE ($((MEETING_SIZE - 1)) attendees wait in the lobby, then the organizer joins with the PIN; lobby_admission auto); lobby = the same callers, no organizer."
echo "CPU = utime+stime of the bridge over a ${WINDOW_SECONDS} s steady-state window, 100% = one core; per participant = CPU / participants; idle = the bridge before any call."
echo "RSS = VmRSS at the end of the window; per participant = (RSS - idle RSS) / participants. Floor = cmd/udpecho (echoes every RTP packet, no other work) at the same packet rate."
echo "UDP/s = datagrams arriving at the machine's sockets per second (both directions of every call; expected = 2 x 50 x participants)."
echo
echo "| run | participants | meetings | bridge CPU | idle CPU | per participant | target | floor (udpecho) per participant | RSS idle → load MiB | RSS per participant KiB | target 64 | sipp CPU | other CPU (softirq) | UDP/s (expected) | calls ok / failed | state during the window |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
while IFS='|' read -r mode n meetings cpu idle per target vcpu imib rmib rper vrss scpu ocpu pps expect ok failed state; do
	[[ -n "$mode" ]] || continue
	floor="-"
	if [[ -n "${echo_cpu[$n]:-}" ]]; then
		floor="$(awk '{ print $2 ($2 == "-" ? "" : "%") }' <<<"${echo_cpu[$n]}")"
	fi
	[[ $mode == lobby ]] && meetings="$meetings (no organizer)"
	[[ $cpu == - ]] || cpu+="%"
	[[ $per == - ]] || per+="%"
	echo "| $mode | $n | $meetings | $cpu | ${idle}% | $per | ≤ ${target}% ($vcpu) | $floor | $imib → $rmib | $rper | $vrss | ${scpu}% | $ocpu | $pps ($expect) | $ok / $failed | $state |"
done <<<"$load_rows"
# RSS per participant from the slope over the meeting steps (least squares
# of load RSS against participants): free of each bridge's idle RSS, which
# varies by several MiB with the garbage left from start-up.
slope=$(awk -F'|' '$1 == "meeting" && $10 != "-" { n++; x += $2; y += $10 * 1024; xx += $2 * $2; xy += $2 * $10 * 1024 }
	END { if (n >= 2 && n * xx - x * x > 0) printf "%.1f", (n * xy - x * y) / (n * xx - x * x) }' <<<"$load_rows")
if [[ -n "$slope" ]]; then
	echo
	echo "RSS slope over the meeting steps (least squares of load RSS against participants): $slope KiB per participant."
fi
if [[ -n "$echo_rows" ]]; then
	echo
	echo "Floor: cmd/udpecho answering the same calls (sipp streams the same speech; every packet echoed)."
	echo
	echo "| participants | udpecho CPU | per participant | idle CPU | sipp CPU | UDP/s (expected) | calls ok / failed |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s' "$echo_rows"
fi
if [[ -n "$churn_rows" ]]; then
	echo
	echo "Churn: $CHURN_CALLS calls at $CHURN_RATE calls/s over $CHURN_MEETINGS meetings of $MEETING_SIZE (each: INVITE, conference ID, lobby or meeting for ${CHURN_HOLD_MS} ms, BYE; speech streamed all call long); sampled ${CHURN_SETTLE_SECONDS} s after the bridge held no call (SIP's Timer J, 32 s, and the Go runtime returning free memory); live heap = Go heap live at the last collection (GET /api/v1/status)."
	echo
	echo "| sample | calls done | RSS MiB | live heap MiB | goroutines | sipp ok / failed |"
	echo "|---|---:|---:|---:|---:|---:|"
	printf '%s' "$churn_rows"
	if [[ -n "${rss_last:-}" && -n "${rss_first:-}" ]]; then
		d_rss=$(awk -v a="$rss_first" -v b="$rss_last" 'BEGIN { printf "%+.1f", (b - a) / 1024 }')
		d_g=$(awk -v a="$g_first" -v b="$g_last" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')
		v_rss=$(awk -v a="$rss_first" -v b="$rss_last" 'BEGIN { print ((b - a) <= 20 * 1024 ? "ok" : "over") }')
		v_g=$(awk -v a="$g_first" -v b="$g_last" 'BEGIN { d = b - a; if (d < 0) d = -d; print (d * 100 <= a ? "ok" : "over") }')
		echo
		echo "From $CHURN_FIRST to $CHURN_CALLS calls: RSS ${d_rss} MiB (target ≤ 20 MB: $v_rss), goroutines ${d_g}% (target within 1%: $v_g)."
	fi
fi
echo
if [[ -s "$work/notes" ]]; then
	echo "Notes (failures, missing calls, disturbed windows):"
	echo
	cat "$work/notes"
else
	echo "No failed call, every call held through its window."
fi
