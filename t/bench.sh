#!/usr/bin/env bash
# make bench: start a fresh cluster of the seed's topology (a leader and
# five chunk servers, 2 replicas) on loopback ports, time a fixed suite
# with the shell's own clock (median of RUNS runs), and write
# BENCHMARKS.md.  Every loop is bounded in count.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
RUNS=${RUNS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/gfs-bench.XXXXXX")
pids=()

cleanup() {
	[ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# start NAME cmd...: run a server, wait for its ready line, set addr to
# its HOST:PORT.  Not in a $(...) subshell, so that pids keeps the PID.
start() {
	local name=$1 i; shift
	"$@" >"$work/$name.out" 2>"$work/$name.log" &
	pids+=($!)
	for ((i = 0; i < 500; i++)); do
		if grep -q '^ready ' "$work/$name.out" 2>/dev/null; then
			addr=$(awk '{ print $2 }' "$work/$name.out")
			return 0
		fi
		sleep 0.02
	done
	echo "bench: $name did not start" >&2
	exit 1
}

# The repair figure needs a lost server's old identity to leave the ring
# within a second or two, not the default 50 s.
start leader "$top/bin/gfs-leader" --listen 127.0.0.1:0 --data "$work/leader" \
    --health-interval 200ms --remove-after 5
leader=$addr
chunk_addr=()
for i in 0 1 2 3 4; do
	start chunk$i "$top/bin/gfs-chunkd" --listen 127.0.0.1:0 \
	    --data "$work/chunk$i" --leader "$leader" --hello-interval 200ms
	chunk_addr+=("$addr")
done
export GFS_LEADER=$leader
gfs=$top/bin/gfs
for ((i = 0; i < 500; i++)); do
	[ "$("$gfs" status 2>/dev/null | grep -c ' healthy ')" = 5 ] && break
	sleep 0.02
done

# median_time CMD: run the shell command RUNS times, print the median
# wall time in seconds.
median_time() {
	local r t0 t1 times=()
	for ((r = 0; r < RUNS; r++)); do
		t0=$(date +%s.%N)
		bash -c "$1" >/dev/null
		t1=$(date +%s.%N)
		times+=("$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'
}

BENCH=${BENCH:-all}	# all, or one section: files, repair
load0=$(cut -d" " -f1-3 /proc/loadavg)
mkdir -p "$work/data" "$work/local"
head -c 10485760 /dev/urandom >"$work/data/ten"
for ((i = 0; i < 1000; i++)); do
	head -c 2048 /dev/urandom >"$work/data/small.$i"
done
export work gfs

# rate N SECONDS DECIMALS: N / SECONDS
rate() { awk -v n="$1" -v t="$2" -v d="$3" 'BEGIN { printf "%.*f", d, n / t }'; }

rows=()
row() { rows+=("| $1 | $2 | $3 |"); printf '%-44s %10s s  %s\n' "$1" "$2" "$3"; }

if [ "$BENCH" = all ] || [ "$BENCH" = files ]; then
t=$(median_time '"$gfs" put "$work/data/ten" ten')
row "gfs put, one 10 MB file" "$t" "$(rate 10 "$t" 1) MB/s"
t=$(median_time '"$gfs" get ten -o "$work/ten.out"')
row "gfs get -o, one 10 MB file" "$t" "$(rate 10 "$t" 1) MB/s"
t=$(median_time 'cp "$work/data/ten" "$work/local/ten" && sync "$work/local/ten"')
row "cp + sync, one 10 MB file (yardstick)" "$t" "$(rate 10 "$t" 1) MB/s"

t=$(median_time 'for i in $(seq 0 999); do "$gfs" put "$work/data/small.$i" "small/$i" || exit 1; done')
row "gfs put, 1000 files of 2 KB, a process each" "$t" "$(rate 1000 "$t" 0) files/s"
t=$(median_time 'for i in $(seq 0 999); do "$gfs" get "small/$i" >/dev/null || exit 1; done')
row "gfs get, 1000 files of 2 KB, a process each" "$t" "$(rate 1000 "$t" 0) files/s"
t=$(median_time 'for i in $(seq 0 999); do cp "$work/data/small.$i" "$work/local/$i" && sync "$work/local/$i" || exit 1; done')
row "cp + sync, 1000 files of 2 KB (yardstick)" "$t" "$(rate 1000 "$t" 0) files/s"
t=$(median_time 'for i in $(seq 0 999); do cat "$work/local/$i" >/dev/null || exit 1; done')
row "cat, 1000 files of 2 KB (yardstick)" "$t" "$(rate 1000 "$t" 0) files/s"
fi

# Repair: 145 MB of distinct chunks, 2 copies on 5 servers, so each
# holds about 50 MB.  kill -9 one, wipe its data, restart it empty at
# the same address (a new identity), and time until gfs fsck finds every
# chunk with its two copies in place again.  One run: it is long.
if [ "$BENCH" = all ] || [ "$BENCH" = repair ]; then
	NBIG=145
	mkdir -p "$work/big"
	for ((i = 0; i < NBIG; i++)); do
		head -c 1048576 /dev/urandom >"$work/big/$i"
		"$gfs" put "$work/big/$i" "big/$i" || exit 1
	done
	"$gfs" fsck big/ >/dev/null || { echo "bench: fsck not clean before" >&2; exit 1; }
	held=$(printf 'STATS\r\nQUIT\r\n' |
	    "$top/t/helper/gfs-raw" "${chunk_addr[0]}" |
	    sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
	kill -KILL "${pids[1]}"
	wait "${pids[1]}" 2>/dev/null || true
	rm -rf "$work/chunk0"
	t0=$(date +%s.%N)
	start chunk0 "$top/bin/gfs-chunkd" --listen "${chunk_addr[0]}" \
	    --data "$work/chunk0" --leader "$leader" --hello-interval 200ms
	for ((i = 0; i < 1200; i++)); do
		"$gfs" fsck big/ >/dev/null 2>&1 && break
		sleep 0.5
	done
	t1=$(date +%s.%N)
	"$gfs" fsck big/ >/dev/null || { echo "bench: repair did not finish" >&2; exit 1; }
	t2=$(date +%s.%N)
	t=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	tf=$(awk -v a="$t2" -v b="$t1" 'BEGIN { printf "%.1f", a - b }')
	mb=$(awk -v b="$held" 'BEGIN { printf "%.1f", b / 1048576 }')
	row "repair: restore 2 copies after losing $mb MB" "$t" "$(rate "$mb" "$t" 1) MB/s"
	row "gfs fsck of those $NBIG MB (polled every 0.5 s above)" "$tf" "$(rate "$NBIG" "$tf" 0) MB/s"
	for ((i = 0; i < NBIG; i++)); do
		"$gfs" get "big/$i" | cmp -s - "$work/big/$i" ||
		    { echo "bench: big/$i differs after repair" >&2; exit 1; }
	done
fi

{
	echo "# gfs benchmarks"
	echo
	echo "Written by \`make bench\` (t/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo),"
	echo "$(uname -sr); cluster, clients and yardsticks all on this one machine,"
	echo "a leader and five chunk servers on loopback, 2 replicas, every put durable"
	echo "(fdatasync on two chunk servers, Berkeley DB commit at the leader)."
	echo "Each figure is the median wall time of $RUNS runs."
	echo "Load average (1, 5, 15 min) at the start: $load0; at the end:"
	echo "$(cut -d" " -f1-3 /proc/loadavg) (2 cores: above 2 means other work shared them)."
	echo
	echo "| what | seconds | rate |"
	echo "|---|---|---|"
	printf '%s\n' "${rows[@]}"
} >"$top/BENCHMARKS.md"
echo "wrote BENCHMARKS.md"
