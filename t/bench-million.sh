#!/usr/bin/env bash
# t/bench-million.sh: one chunk server holding a million chunks of 1 KB
# (1 GB).  Starts a leader and one chunk server on loopback, fills the
# chunk server over its protocol (t/helper/chunk-bench fill), reads its
# index size and RSS, restarts it with the page cache dropped (cold) and
# again without (warm) and times each start-up until its ready line,
# then measures GET_BATCH chunks/s over 1 and over 4 connections.
#
# Prints a markdown table on stdout; progress goes to stderr.  Not run
# by make test: it takes a minute or two and 1.1 GB of disk under
# ${TMPDIR:-/tmp}, removed at the end.  COUNT (default 1000000) and
# GET_SECONDS (default 5) change the size and the read time.  Dropping
# the page cache needs root; without it the cold row says so.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
COUNT=${COUNT:-1000000}
GET_SECONDS=${GET_SECONDS:-5}
bench=$top/t/helper/chunk-bench
raw=$top/t/helper/gfs-raw
for f in "$top/bin/gfs-leader" "$top/bin/gfs-chunkd" "$bench" "$raw"; do
	[ -x "$f" ] || { echo "bench-million: no $f: run make" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/gfs-million.XXXXXX")
leader_pid=
chunk_pid=

cleanup() {
	local p
	for p in $chunk_pid $leader_pid; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $chunk_pid $leader_pid; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "bench-million: $*" >&2; }

# cpu_ticks: the chunk server's user + system time, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$chunk_pid/stat"
}

# wait_ready NAME: wait (at most 600 s) for the ready line in
# $work/NAME.out; sets addr to its HOST:PORT.
wait_ready() {
	local i
	for ((i = 0; i < 60000; i++)); do
		if grep -q '^ready ' "$work/$1.out" 2>/dev/null; then
			addr=$(awk '/^ready / { print $2 }' "$work/$1.out")
			return 0
		fi
		sleep 0.01
	done
	say "$1 did not start; its log:"
	tail -n 20 "$work/$1.log" >&2
	exit 1
}

# start_chunk LISTEN: start the chunk server, wait for it; sets chunk_pid,
# addr, started (seconds from exec to the ready line) and started_cpu
# (the CPU seconds it used to get there).
start_chunk() {
	local t0 t1
	: >"$work/chunk.out"
	t0=$(date +%s.%N)
	"$top/bin/gfs-chunkd" --listen "$1" --data "$work/chunk" \
	    --leader "$leader" --hello-interval 1s --repair-interval 1h \
	    >"$work/chunk.out" 2>>"$work/chunk.log" &
	chunk_pid=$!
	wait_ready chunk
	t1=$(date +%s.%N)
	started=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
	started_cpu=$(awk -v t="$(cpu_ticks)" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.1f", t / hz }')
}

stop_chunk() {
	kill -TERM "$chunk_pid"
	wait "$chunk_pid" 2>/dev/null || true
	chunk_pid=
}

# chunk_stat NAME: a number from the chunk server's STATS.
chunk_stat() {
	printf 'STATS\r\nQUIT\r\n' | "$raw" -t 10000 "$chunk" |
	    sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"
}

# rss: the chunk server's VmRSS in MB.
rss() {
	awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$chunk_pid/status"
}

# The server's own figure for its index rebuild, from its last start.
rebuild() {
	sed -n 's/.*store: .* segments, \([0-9.]*\) s$/\1/p' "$work/chunk.log" |
	    tail -n 1
}

# wait_repair: the repair pass a start-up begins walks every chunk;
# let it finish before measuring reads (at most 120 s).
wait_repair() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[ "$(chunk_stat repair_passes)" -ge 1 ] 2>/dev/null &&
		    [ "$(chunk_stat repair_active)" = 0 ] && return 0
		sleep 0.1
	done
	say "no repair pass finished in 120 s; measuring anyway"
}

# field NAME LINE: the value after NAME in chunk-bench's output.
field() {
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$2"
}

load0=$(cut -d" " -f1-3 /proc/loadavg)
"$top/bin/gfs-leader" --listen 127.0.0.1:0 --data "$work/leader" \
    >"$work/leader.out" 2>"$work/leader.log" &
leader_pid=$!
wait_ready leader
leader=$addr
start_chunk 127.0.0.1:0
chunk=$addr
rss_empty=$(rss)
say "leader $leader, chunk server $chunk; filling $COUNT chunks of 1 KB"

out=$(timeout 1800 "$bench" fill -n "$COUNT" "$chunk")
fill_s=$(field seconds "$out")
fill_rate=$(field chunks_per_s "$out")
chunks=$(chunk_stat chunks)
[ "$chunks" = "$COUNT" ] ||
    { say "chunk server holds $chunks chunks, not $COUNT"; exit 1; }
disk=$(chunk_stat disk_bytes)
ixb=$(chunk_stat index_bytes)
rss_fill=$(rss)

# Cold: the page cache dropped, so the rebuild reads the segments from disk.
stop_chunk
cold="n/a (needs root)"
cold_log=
if sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
	say "page cache dropped; cold start"
	start_chunk "$chunk"
	cold="$started s"
	cold_log=" (rebuild $(rebuild) s, $started_cpu s of CPU)"
	stop_chunk
else
	say "cannot drop the page cache (not root): no cold start"
fi
say "warm start"
start_chunk "$chunk"
warm="$started s (rebuild $(rebuild) s, $started_cpu s of CPU)"
[ "$(chunk_stat chunks)" = "$COUNT" ] ||
    { say "after restart: $(chunk_stat chunks) chunks, not $COUNT"; exit 1; }
ixb_restart=$(chunk_stat index_bytes)
rss_restart=$(rss)
wait_repair

# get CONNS: GET_BATCH for GET_SECONDS; sets rate (chunks/s) and cpu,
# the chunk server's CPU time per chunk served (user + system, in us):
# the machine's other work slows the rate down, much less the CPU time.
get() {
	local t0 t1 out
	say "GET_BATCH, $1 connection(s), $GET_SECONDS s"
	t0=$(cpu_ticks)
	out=$(timeout $((GET_SECONDS + 120)) "$bench" get -n "$COUNT" -c "$1" \
	    -k 100 -w 4 -d "$GET_SECONDS" "$chunk")
	t1=$(cpu_ticks)
	rate=$(field chunks_per_s "$out")
	cpu=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
	    -v n="$(field chunks "$out")" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
}
get 1
get1="$rate chunks/s ($cpu us of server CPU a chunk)"
get 4
get4="$rate chunks/s ($cpu us of server CPU a chunk)"
rss_get=$(rss)

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
echo "| one chunk server, $COUNT chunks of 1 KB | |"
echo "|---|---|"
echo "| segment files | $(mb "$disk") MB |"
echo "| fill: PUT_PENDING + COMMIT, 4096 a txid, 1 connection | $fill_s s, $fill_rate chunks/s |"
echo "| index_bytes (STATS) after the fill / after a restart | $(mb "$ixb") MB / $(mb "$ixb_restart") MB |"
echo "| index bytes per chunk | $(per "$ixb_restart" "$COUNT") |"
echo "| RSS: empty / after the fill / after a restart / after the reads | $rss_empty / $rss_fill / $rss_restart / $rss_get MB |"
echo "| RSS per chunk after a restart, less the empty server's | $(awk -v a="$rss_restart" -v b="$rss_empty" -v n="$COUNT" 'BEGIN { printf "%.1f bytes", (a - b) * 1048576 / n }') |"
echo "| start-up to ready, page cache dropped (cold) | $cold$cold_log |"
echo "| start-up to ready, page cache warm | $warm |"
echo "| GET_BATCH, 1 connection, 100 hashes a line, 4 lines in flight | $get1 |"
echo "| GET_BATCH, 4 connections, 100 hashes a line, 4 lines in flight each | $get4 |"
echo "| load average (1, 5, 15 min) at the start / at the end, $(nproc) cores | $load0 / $(cut -d" " -f1-3 /proc/loadavg) |"
