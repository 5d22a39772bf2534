# lib.sh: helpers shared by the benchmark scripts (sourced, not run).

# port_free PORT: nothing listens on PORT over UDP or TCP.
port_free() {
	if ! command -v ss >/dev/null 2>&1; then
		return 0
	fi
	[[ -z "$(ss -Hlnu "sport = :$1" 2>/dev/null)$(ss -Hlnt "sport = :$1" 2>/dev/null)" ]]
}

# free_port FROM: the first free port at or above FROM, with FROM+2 free
# too (below the kernel's ephemeral range and above the bridge's RTP range,
# 10000-29999, when FROM is 30000).
free_port() {
	local p=$1
	while ! port_free "$p" || ! port_free "$((p + 2))"; do
		p=$((p + 4))
	done
	echo "$p"
}

# now_ms: wall-clock milliseconds.
now_ms() {
	date +%s%3N
}
