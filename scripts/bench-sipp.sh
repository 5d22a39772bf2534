#!/usr/bin/env bash
# bench-sipp.sh measures the bridge's call-setup rate with sipp (make bench).
#
# It builds the bridge, starts it on 127.0.0.1 with a bench configuration
# (max_calls 10000, RTP ports 10000-29999, log level warn), then runs sipp's
# testdata/sipp/load.xml (INVITE, 200, ACK, 1 s hold, BYE, 200; sipp sends
# no RTP, the bridge plays its welcome prompt to sipp's media port) at
# increasing rates, each for about STEP_SECONDS. For every rate it reports
# the calls attempted, successful and failed, the rate sipp really reached,
# the answer time (INVITE to 200, sipp's response-time timer 1; whole ms,
# and sipp's clock may step coarser) as p50/p95/p99/max, and the CPU that the bridge and sipp used
# (100% = one core). It ends with the highest rate that had no failed call,
# and prints everything as a markdown table for BENCHMARKS.md.
#
# Loopback only. Total run time stays under 3 minutes: every call that gets
# no answer fails after RECV_TIMEOUT_MS, every step is cut off by sipp's
# -timeout, and once a step fails more than half its calls the higher rates
# are skipped.
#
# Environment: RATES ("200 400 600 800 1000 1200 1500"), STEP_SECONDS (10),
# HOLD_MS (1000), RECV_TIMEOUT_MS (5000), SCENARIO (testdata/sipp/load.xml;
# another scenario with the same shape, e.g. one offering a=inactive to
# measure signalling without media), KEEP=1 keeps the work folder.
set -euo pipefail

RATES=${RATES:-"200 400 600 800 1000 1200 1500"}
STEP_SECONDS=${STEP_SECONDS:-10}
HOLD_MS=${HOLD_MS:-1000}
RECV_TIMEOUT_MS=${RECV_TIMEOUT_MS:-5000}

die() {
	echo "bench-sipp: $*" >&2
	exit 1
}

command -v sipp >/dev/null 2>&1 || die "sipp not found: install sip-tester (apt-get install -y sip-tester)"
command -v go >/dev/null 2>&1 || die "go not found"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
SCENARIO=${SCENARIO:-$root/testdata/sipp/load.xml}
[[ -f "$SCENARIO" ]] || die "no scenario $SCENARIO"
work="$(mktemp -d)"
bridge_pid=""
cleanup() {
	if [[ -n "$bridge_pid" ]] && kill -0 "$bridge_pid" 2>/dev/null; then
		kill -TERM "$bridge_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$bridge_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$bridge_pid" 2>/dev/null || true
	fi
	if [[ "${KEEP:-}" == 1 ]]; then
		echo "bench-sipp: work folder kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# Every call holds one RTP socket in the bridge, and sipp keeps one socket
# per call too in some modes: raise the open-file limit as far as allowed.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "bench-sipp: building the bridge" >&2
(cd "$root" && go build -o "$work/dialin" ./cmd/dialin)

# The bench config logs at warn, so the "ready" line (info) does not show:
# pick the SIP port here instead of port 0.
sip_port=$(free_port 30000)
sipp_port=$(free_port $((sip_port + 4)))
media_port=$(free_port $((sipp_port + 4)))
ctrl_port=$(free_port $((media_port + 4)))

cat >"$work/bench.yaml" <<EOF
sip:
  listen: ["udp:127.0.0.1:$sip_port", "tcp:127.0.0.1:$sip_port"]
rtp:
  port_min: 10000
  port_max: 29999
  inactivity_timeout: 30s
limits:
  max_calls: 10000
  shutdown_grace: 1s
log:
  level: warn
  format: json
data_dir: $work/data
EOF

"$work/dialin" serve --config "$work/bench.yaml" >"$work/bridge.log" 2>&1 &
bridge_pid=$!
for _ in $(seq 100); do
	if ! kill -0 "$bridge_pid" 2>/dev/null; then
		cat "$work/bridge.log" >&2
		die "the bridge exited at start"
	fi
	if ! port_free "$sip_port"; then
		break
	fi
	sleep 0.1
done
sleep 0.5

clk_tck=$(getconf CLK_TCK)
# cpu_ticks PID: user+system CPU time of a process in clock ticks (0 if gone).
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
# udp_drops PORT: datagrams the kernel dropped on the 127.0.0.1:PORT UDP
# socket because its receive buffer was full (last column of /proc/net/udp).
udp_drops() {
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$hex" '$2 == a { d += $NF } END { print d + 0 }' /proc/net/udp 2>/dev/null || echo 0
}
# stats DIR COLUMN: a column's value in the last row of DIR/stat.csv.
stats() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ v = $c } END { print (v == "" ? 0 : v) + 0 }' "$1/stat.csv" 2>/dev/null || echo 0
}

results="$work/results.md"
: >"$results"
best=0
best_clean=0
tick=""
skip=""
notes=""

for rate in $RATES; do
	if [[ -n "$skip" ]]; then
		echo "| $rate | skipped: $skip |  |  |  |  |  |  |  |  |  |  |" >>"$results"
		continue
	fi
	step="$work/rate-$rate"
	mkdir -p "$step"
	calls=$((rate * STEP_SECONDS))
	warn_before=$(wc -l <"$work/bridge.log")
	echo "bench-sipp: $rate calls/s for ${STEP_SECONDS}s ($calls calls)" >&2

	bridge_cpu0=$(cpu_ticks "$bridge_pid")
	bridge_drops0=$(udp_drops "$sip_port")
	t0=$(now_ms)
	(
		cd "$step"
		exec sipp "127.0.0.1:$sip_port" -sf "$SCENARIO" \
			-s conference -i 127.0.0.1 -mi 127.0.0.1 \
			-p "$sipp_port" -mp "$media_port" -cp "$ctrl_port" \
			-r "$rate" -m "$calls" -l $((rate * 5)) -d "$HOLD_MS" \
			-recv_timeout "$RECV_TIMEOUT_MS" -timeout $((STEP_SECONDS + 15))s \
			-nostdin -trace_stat -stf stat.csv -trace_rtt -rtt_freq 1 \
			-trace_err -error_file errors.log -trace_screen -screen_file screen.log \
			>sipp.out 2>&1
	) &
	sipp_pid=$!
	sipp_cpu=0
	sipp_drops=0
	# Sample sipp's CPU while it runs (its /proc entry is gone after wait).
	while kill -0 "$sipp_pid" 2>/dev/null; do
		c=$(cpu_ticks "$sipp_pid")
		[[ "$c" -gt 0 ]] && sipp_cpu=$c
		d=$(udp_drops "$sipp_port")
		[[ "$d" -gt "$sipp_drops" ]] && sipp_drops=$d
		sleep 0.2
	done
	set +e
	wait "$sipp_pid"
	sipp_rc=$?
	set -e
	t1=$(now_ms)
	bridge_cpu1=$(cpu_ticks "$bridge_pid")
	bridge_drops=$(($(udp_drops "$sip_port") - bridge_drops0))
	wall_ms=$((t1 - t0))

	attempted=$(stats "$step" "OutgoingCall(C)")
	ok=$(stats "$step" "SuccessfulCall(C)")
	failed=$(stats "$step" "FailedCall(C)")
	retrans=$(stats "$step" "Retransmissions(C)")
	f_timeout=$(stats "$step" "FailedTimeoutOnRecv(C)")
	f_unexpected=$(stats "$step" "FailedUnexpectedMessage(C)")
	f_retrans=$(stats "$step" "FailedMaxUDPRetrans(C)")
	[[ "$attempted" -gt 0 ]] || attempted=$calls
	refused=$(tail -n +"$((warn_before + 1))" "$work/bridge.log" | grep -c '"refused' || true)
	warnings=$(tail -n +"$((warn_before + 1))" "$work/bridge.log" | grep -c '"level":"warn"' || true)
	top_warning=$(tail -n +"$((warn_before + 1))" "$work/bridge.log" | grep '"level":"warn"' |
		grep -o '"message":"[^"]*"' | sort | uniq -c | sort -rn | head -1 |
		awk '{ n = $1; $1 = ""; sub(/^ "message":/, ""); print $0 " x" n }' || true)

	# Answer-time percentiles (nearest rank) and the reached rate from the
	# RTT trace: one line per answered call, "ms since start;rtt ms;1".
	rttfile=$(ls "$step"/*_rtt.csv 2>/dev/null | head -1 || true)
	p50="-" p95="-" p99="-" pmax="-" reached="-"
	if [[ -n "$rttfile" ]] && [[ $(wc -l <"$rttfile") -gt 2 ]]; then
		read -r p50 p95 p99 pmax < <(awk -F';' 'NR > 1 && $3 == 1 { print $2 }' "$rttfile" | sort -n |
			awk '{ v[NR] = $1 } END {
				n = NR
				i50 = int(n * 0.50 + 0.999); i95 = int(n * 0.95 + 0.999); i99 = int(n * 0.99 + 0.999)
				print v[i50], v[i95], v[i99], v[n] }')
		step_tick=$(awk -F';' 'NR > 1 && $2 > 0 && (m == "" || $2 < m) { m = $2 } END { print m }' "$rttfile")
		if [[ -n "$step_tick" ]] && { [[ -z "$tick" ]] || [[ "$step_tick" -lt "$tick" ]]; }; then
			tick=$step_tick
		fi
		reached=$(awk -F';' 'NR > 1 && $3 == 1 { if (first == "") first = $1; last = $1; n++ }
			END { if (last > first) printf "%.0f", (n - 1) * 1000 / (last - first); else print "-" }' "$rttfile")
	fi
	bridge_pct=$(((bridge_cpu1 - bridge_cpu0) * 100 * 1000 / clk_tck / wall_ms))
	sipp_pct=$((sipp_cpu * 100 * 1000 / clk_tck / wall_ms))

	echo "| $rate | $reached | $attempted | $ok | $failed | $p50 | $p95 | $p99 | $pmax | ${bridge_pct}% | ${sipp_pct}% | $bridge_drops / $sipp_drops |" >>"$results"
	if [[ "$failed" -gt 0 || "$sipp_rc" -ne 0 ]]; then
		notes+="- $rate calls/s: sipp exit $sipp_rc; failed $failed (no answer in time $f_timeout, unexpected response $f_unexpected, max UDP retransmissions $f_retrans); $retrans retransmissions; bridge refused $refused, logged $warnings warnings${top_warning:+ (most: $top_warning)}; SIP datagrams dropped: bridge $bridge_drops, sipp $sipp_drops."$'\n'
	elif [[ "$retrans" -gt 0 ]]; then
		notes+="- $rate calls/s: no failed call, but $retrans SIP retransmissions (bridge logged $warnings warnings${top_warning:+, most: $top_warning}; SIP datagrams dropped: bridge $bridge_drops, sipp $sipp_drops)."$'\n'
	fi
	if [[ "$failed" -eq 0 && "$sipp_rc" -eq 0 && "$ok" -gt 0 ]]; then
		best=$rate
		if [[ "$retrans" -eq 0 ]]; then
			best_clean=$rate
		fi
	fi
	if [[ "$failed" -gt $((attempted / 2)) ]]; then
		skip="more than half the calls failed at $rate calls/s"
	fi
	# Let the bridge settle (calls torn down, sockets closed) before the next step.
	sleep 2
done

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
echo
echo "Call-setup rate, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $(go version | awk '{print $3}'), sipp and the bridge on the same machine over 127.0.0.1 UDP."
echo "Each step: ${STEP_SECONDS} s of calls at the target rate; call = INVITE, 200, ACK, ${HOLD_MS} ms hold, BYE, 200; the bridge sends its prompt (50 RTP packets/s per call); answer time = INVITE to 200 as sipp measures it (in whole ms; its clock moved in steps of ${tick:-?} ms here, so 0 means under ${tick:-?} ms); CPU: 100% = one core; SIP drops = datagrams the kernel dropped on that side's SIP socket (receive buffer full)."
echo
echo "| target calls/s | reached calls/s | attempted | successful | failed | answer p50 ms | p95 ms | p99 ms | max ms | bridge CPU | sipp CPU | SIP drops bridge / sipp |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
cat "$results"
echo
if [[ -n "$notes" ]]; then
	echo "Notes (failures, retransmissions):"
	echo
	printf '%s' "$notes"
	echo
fi
echo "Highest rate with 0 failed calls: $best calls/s."
echo "Highest rate with 0 failed calls and no SIP retransmission: $best_clean calls/s."
