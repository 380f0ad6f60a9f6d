#!/usr/bin/env bash
# make bench: start a fresh cluster of the seed's topology (a leader and
# five chunk servers, 2 replicas) on loopback ports, run a fixed suite,
# and write BENCHMARKS.md with the figures, their targets, the machine
# and the commands.  Repair runs first, on a cluster of its own with
# eager health checks.  Every loop is bounded in count.
#
#	BENCH=all	every section (the default), or one of:
#	BENCH=repair	lose a chunk server's data, time until fsck is clean
#	BENCH=clients	gfs bench --json: put and get of 1 KB and 16 KB
#			files with 1 and 16 clients, LOOKUP at the leader
#	BENCH=files	one 10 MB file; a gfs process per small file, with
#			cp and cat run the same way as yardsticks
#	BENCH=tree	gfs put -r and get -r of a tree of text documents
#			(TREE_SRC, /usr/share/doc), against cp -r
#	BENCH=million	GET_BATCH at one chunk server: t/bench-million.sh
#
# RUNS (3): runs of which the median is taken; DURATION (5s): of each
# gfs bench run; NSMALL (200): files of the one-process-per-file rows;
# NTREE (5000): at most this many documents in the tree.
# shellcheck disable=SC2016 # the commands in single quotes run under bash -c
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
RUNS=${RUNS:-3}
DURATION=${DURATION:-5s}
NSMALL=${NSMALL:-200}
NTREE=${NTREE:-5000}
TREE_SRC=${TREE_SRC:-/usr/share/doc}
BENCH=${BENCH:-all}
case $BENCH in
all|repair|clients|files|tree|million) ;;
*)	echo "usage: BENCH=all|repair|clients|files|tree|million $0" >&2
	exit 2 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/gfs-bench.XXXXXX")
pids=()

cleanup() {
	[ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# want SECTION: true if BENCH runs it.
want() { [ "$BENCH" = all ] || [ "$BENCH" = "$1" ]; }

die() { echo "bench: $*" >&2; exit 1; }

load0=$(cut -d" " -f1-3 /proc/loadavg)
date0=$(date -u '+%Y-%m-%d %H:%M UTC')

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
	die "$name did not start"
}

gfs=$top/bin/gfs
export work gfs

# start_cluster TAG: a leader (leader_args) and five chunk servers
# (chunk_args) with their data under $work/TAG; sets leader, chunk_addr,
# chunk_pid, cluster (the PIDs) and GFS_LEADER, and waits until all five
# are healthy.
start_cluster() {
	local tag=$1 i
	mkdir -p "$work/$tag"
	cluster=() chunk_addr=() chunk_pid=()
	start "$tag/leader" "$top/bin/gfs-leader" --listen 127.0.0.1:0 \
	    --data "$work/$tag/leader" ${leader_args[@]+"${leader_args[@]}"}
	cluster+=("${pids[-1]}")
	leader=$addr
	for i in 0 1 2 3 4; do
		start "$tag/chunk$i" "$top/bin/gfs-chunkd" --listen 127.0.0.1:0 \
		    --data "$work/$tag/chunk$i" --leader "$leader" \
		    ${chunk_args[@]+"${chunk_args[@]}"}
		cluster+=("${pids[-1]}")
		chunk_pid+=("${pids[-1]}")
		chunk_addr+=("$addr")
	done
	export GFS_LEADER=$leader
	for ((i = 0; i < 500; i++)); do
		[ "$("$gfs" status 2>/dev/null | grep -c ' healthy ')" = 5 ] && return 0
		sleep 0.02
	done
	die "the chunk servers of $tag are not all healthy"
}

stop_cluster() {
	kill -TERM "${cluster[@]}" 2>/dev/null || true
	wait "${cluster[@]}" 2>/dev/null || true
	cluster=()
}

# one_run CMD [DEST...]: remove the DESTs (and sync the removal) if any,
# untimed; then run the shell command, print its wall time in seconds.
one_run() {
	local c=$1 t0 t1
	shift
	if [ $# -gt 0 ]; then
		rm -rf "$@"
		sync
	fi
	t0=$(date +%s.%N)
	bash -c "$c" >/dev/null || return 1
	t1=$(date +%s.%N)
	awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }'
}

# median: of the numbers on stdin, one a line.
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'; }

# median_time CMD: run the shell command RUNS times, print the median
# wall time in seconds.
median_time() {
	local r
	for ((r = 0; r < RUNS; r++)); do
		one_run "$1" || true
	done | median
}

# median_fresh DEST CMD: as median_time, but DEST is removed (and the
# removal synced) before each run, untimed, so each run writes anew.
median_fresh() {
	local r times=()
	for ((r = 0; r < RUNS; r++)); do
		times+=("$(one_run "$2" "$1")") || return 1
	done
	printf '%s\n' "${times[@]}" | median
}

# median_pair DEST1 CMD1 DEST2 CMD2: as median_fresh for both, their runs
# taken in turn, so that both meet the file system in the same state
# (ext4 slows down creating files right after many were removed).
# Prints the two medians.
median_pair() {
	local r a=() b=()
	for ((r = 0; r < RUNS; r++)); do
		a+=("$(one_run "$2" "$1" "$3")") || return 1
		b+=("$(one_run "$4" "$1" "$3")") || return 1
	done
	printf '%s\n' "${a[@]}" | median
	printf ' '
	printf '%s\n' "${b[@]}" | median
	echo
}

# rate N SECONDS DECIMALS: N / SECONDS
rate() { awk -v n="$1" -v t="$2" -v d="$3" 'BEGIN { printf "%.*f", d, n / t }'; }

# ratio A B: A / B, as "2.35x"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

# meets VALUE OP LIMIT: "yes" or "no"
meets() { awk -v v="$1" -v w="$3" "BEGIN { print (v $2 w) ? \"yes\" : \"no\" }"; }

# row WHAT SECONDS RATE [LATENCY [TARGET [MET]]]: a row of the table.
rows=()
row() {
	rows+=("| $1 | $2 | $3 | ${4:-} | ${5:-} | ${6:-} |")
	printf '%-52s %9s %-30s %s %s\n' "$1" "${2:+$2 s}" "$3" "${5:-}" "${6:-}"
}

cmds=()		# the commands timed, verbatim (bin/gfs is $gfs)
cmd() { cmds+=("$*"); }

# Repair: 145 MB of distinct chunks, 2 copies on 5 servers, so each
# holds about 50 MB.  kill -9 one, wipe its data, restart it empty at
# the same address (a new identity), and time until gfs fsck finds every
# chunk with its two copies in place again.  One run: it is long.
#
# A cluster of its own, that holds nothing else, and whose lost server's
# old identity leaves the ring within a second or two, not the default
# 50 s.  Such health checks are too eager for the sections that load
# the machine: a server slow to answer one 200 ms check is skipped by
# writers, so they run on a cluster with the default checks.
if want repair; then
	leader_args=(--health-interval 200ms --remove-after 5)
	chunk_args=(--hello-interval 200ms)
	start_cluster repair
	NBIG=145
	mkdir -p "$work/big"
	for ((i = 0; i < NBIG; i++)); do
		head -c 1048576 /dev/urandom >"$work/big/$i"
		"$gfs" put "$work/big/$i" "big/$i" || exit 1
	done
	"$gfs" fsck big/ >/dev/null || die "fsck not clean before"
	held=$(printf 'STATS\r\nQUIT\r\n' |
	    "$top/t/helper/gfs-raw" "${chunk_addr[0]}" |
	    sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
	kill -KILL "${chunk_pid[0]}"
	wait "${chunk_pid[0]}" 2>/dev/null || true
	rm -rf "$work/repair/chunk0"
	t0=$(date +%s.%N)
	start repair/chunk0 "$top/bin/gfs-chunkd" --listen "${chunk_addr[0]}" \
	    --data "$work/repair/chunk0" --leader "$leader" "${chunk_args[@]}"
	cluster+=("${pids[-1]}")
	for ((i = 0; i < 1200; i++)); do
		"$gfs" fsck big/ >/dev/null 2>&1 && break
		sleep 0.5
	done
	t1=$(date +%s.%N)
	"$gfs" fsck big/ >/dev/null || die "repair did not finish"
	t2=$(date +%s.%N)
	t=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	tf=$(awk -v a="$t2" -v b="$t1" 'BEGIN { printf "%.1f", a - b }')
	mb=$(awk -v b="$held" 'BEGIN { printf "%.1f", b / 1048576 }')
	row "repair: restore 2 copies after losing $mb MB" "$t" "$(rate "$mb" "$t" 1) MB/s"
	row "gfs fsck of those $NBIG MB (polled every 0.5 s above)" "$tf" "$(rate "$NBIG" "$tf" 0) MB/s"
	for ((i = 0; i < NBIG; i++)); do
		"$gfs" get "big/$i" | cmp -s - "$work/big/$i" ||
		    die "big/$i differs after repair"
	done
	cmd "gfs-leader ${leader_args[*]}; gfs-chunkd ${chunk_args[*]}: kill -9 a chunk server, wipe its data, restart it; bin/gfs fsck big/ every 0.5 s until clean"
	stop_cluster
	rm -rf "$work/repair" "$work/big"
fi

# The seed's cluster, with the default health checks, for the rest.
leader_args=() chunk_args=()
start_cluster seed

# Many clients: gfs bench times each operation itself and prints one
# JSON object.  --files is the most it takes, so that DURATION ends each
# run; get and lookup put their files first, for up to DURATION too.
bench_errors=0
# num KEY: the number KEY of the JSON object in $work/bench.json
num() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p" "$work/bench.json"; }
# settle: wait (60 s at most) until the leader's garbage-collection
# queue is empty: each gfs bench run purges its files at the end, and
# the next measurement should not share the cluster with their deletion.
settle() {
	local i q
	for ((i = 0; i < 120; i++)); do
		q=$(printf 'STATS\r\nQUIT\r\n' |
		    "$top/t/helper/gfs-raw" "$GFS_LEADER" |
		    sed -n 's/.*"gc_queue":\([0-9]*\).*/\1/p')
		[ "$q" = 0 ] && return 0
		sleep 0.5
	done
}

# bench_row WHAT TARGET_OP TARGET ARGS...: gfs bench ARGS --json RUNS
# times, a row of the run with the median ops/s; TARGET_OP and TARGET
# compare ops/s (- for none).  Any run that fails fails the row.
bench_row() {
	local what=$1 op=$2 target=$3 rc=0 ops mb met='' tgt='' unit r; shift 3
	local args="$*"
	cmd "bin/gfs bench ${args//$work/\$work} --json"
	: >"$work/bench.err"
	for ((r = 0; r < RUNS; r++)); do
		settle
		"$gfs" bench "$@" --json >"$work/bench.json" \
		    2>>"$work/bench.err" || rc=$?
		ops=$(num ops_per_s)
		if [ -z "$ops" ] || [ "$(num errors)" != 0 ]; then
			break	# this run is the row: it failed
		fi
		printf '%s %s\n' "$ops" "$r" >>"$work/bench.runs"
		cp "$work/bench.json" "$work/bench.$r.json"
	done
	if [ -n "$ops" ] && [ "$(num errors)" = 0 ]; then
		r=$(sort -n "$work/bench.runs" | awk '{ a[NR] = $2 }
		    END { print a[int((NR + 1) / 2)] }')
		cp "$work/bench.$r.json" "$work/bench.json"
	fi
	rm -f "$work/bench.runs" "$work/bench."[0-9]*.json
	if [ -z "$(num ops_per_s)" ]; then
		sed 's/^/    /' "$work/bench.err" >&2
		row "$what" "" "failed (exit $rc)"
		bench_errors=$((bench_errors + 1))
		return 0
	fi
	ops=$(num ops_per_s)
	mb=$(num mb_per_s)
	unit="files/s, $mb MB/s"
	[ "$mb" = 0 ] && unit="ops/s"
	if [ "$(num errors)" != 0 ]; then
		sed 's/^/    /' "$work/bench.err" >&2
		bench_errors=$((bench_errors + 1))
		what="$what, $(num errors) ERRORS"
	fi
	if [ "$op" != - ]; then
		tgt="$op $target ${unit%%,*}"
		met=$(meets "$ops" "$op" "$target")
	fi
	row "$what" "$(printf '%.3f' "$(num seconds)")" \
	    "$(printf '%.0f' "$ops") $unit" \
	    "$(num p50_ms) / $(num p99_ms) / $(num p999_ms)" "$tgt" "$met"
}

if want clients; then
	for size in 1k 16k; do
		for c in 1 16; do
			for op in put get; do
				t_op=- t_val=''
				if [ "$size.$c.$op" = 1k.16.put ]; then
					t_op='>=' t_val=5000
				elif [ "$size.$c.$op" = 1k.16.get ]; then
					t_op='>=' t_val=15000
				fi
				bench_row "gfs bench $op, ${size/k/ KB} files, $c client$([ "$c" = 1 ] || echo s)" \
				    "$t_op" "$t_val" --op "$op" --size "$size" \
				    --clients "$c" --duration "$DURATION" --files 10000000
			done
		done
	done
	bench_row "gfs bench lookup at the leader, 16 clients" '>=' 50000 \
	    --op lookup --clients 16 --duration "$DURATION" --files 10000000
	# The leader's rate, not the round trips': 4 clients, 32 in flight.
	bench_row "gfs bench lookup at the leader, 4 clients, 32 pipelined" \
	    '>=' 50000 --op lookup --clients 4 --pipeline 32 \
	    --duration "$DURATION" --files 10000000
fi

# A gfs process per file, against cp and cat run the same way.
if want files; then
	mkdir -p "$work/data" "$work/local"
	head -c 10485760 /dev/urandom >"$work/data/ten"
	for ((i = 0; i < NSMALL; i++)); do
		head -c 2048 /dev/urandom >"$work/data/small.$i"
	done
	export NSMALL

	c='"$gfs" put "$work/data/ten" ten'
	t=$(median_time "$c"); cmd "$c"
	row "gfs put, one 10 MB file" "$t" "$(rate 10 "$t" 1) MB/s"
	c='"$gfs" get ten -o "$work/ten.out"'
	t=$(median_time "$c"); cmd "$c"
	row "gfs get -o, one 10 MB file" "$t" "$(rate 10 "$t" 1) MB/s"
	c='cp "$work/data/ten" "$work/local/ten" && sync "$work/local/ten"'
	t=$(median_time "$c"); cmd "$c"
	row "cp + sync, one 10 MB file (yardstick)" "$t" "$(rate 10 "$t" 1) MB/s"

	c='for ((i = 0; i < NSMALL; i++)); do "$gfs" put "$work/data/small.$i" "small/$i" || exit 1; done'
	tp=$(median_time "$c"); cmd "$c"
	row "gfs put, $NSMALL files of 2 KB, a process each" "$tp" "$(rate "$NSMALL" "$tp" 0) files/s"
	c='for ((i = 0; i < NSMALL; i++)); do "$gfs" get "small/$i" >/dev/null || exit 1; done'
	tg=$(median_time "$c"); cmd "$c"
	row "gfs get, $NSMALL files of 2 KB, a process each" "$tg" "$(rate "$NSMALL" "$tg" 0) files/s"
	c='for ((i = 0; i < NSMALL; i++)); do cp "$work/data/small.$i" "$work/local/$i" && sync "$work/local/$i" || exit 1; done'
	tc=$(median_time "$c"); cmd "$c"
	row "cp + sync, $NSMALL files of 2 KB (yardstick)" "$tc" "$(rate "$NSMALL" "$tc" 0) files/s"
	c='for ((i = 0; i < NSMALL; i++)); do cat "$work/local/$i" >/dev/null || exit 1; done'
	tk=$(median_time "$c"); cmd "$c"
	row "cat, $NSMALL files of 2 KB (yardstick)" "$tk" "$(rate "$NSMALL" "$tk" 0) files/s"
	r=$(ratio "$tp" "$tc")
	row "ratio: gfs put / (cp + sync), a process per file" "" "$r" "" "<= 1.5x" "$(meets "${r%x}" '<=' 1.5)"
	r=$(ratio "$tg" "$tk")
	row "ratio: gfs get / cat, a process per file" "" "$r" "" "<= 1.5x" "$(meets "${r%x}" '<=' 1.5)"
fi

# The tree: the text documents of TREE_SRC that are not compressed, at
# most NTREE, copied once to $work/tree with their relative paths.  gfs
# put -r and get -r of it, against cp -r of the same tree.
# has_r CMD: gfs CMD has a -r flag, by its usage.
has_r() { "$gfs" help "$1" 2>&1 | grep -qE -- '(^|[[ ])-r([] ]|$)'; }
tree_info=''
if want tree; then
	if [ ! -d "$TREE_SRC" ]; then
		row "the tree" "" "skipped: no $TREE_SRC"
	else
	mkdir -p "$work/tree"
	c='cd "$TREE_SRC" && find . -type f ! -name "*.gz" -readable -print0 | LC_ALL=C sort -z | head -z -n "$NTREE" | xargs -0 -r cp --parents -t "$work/tree"'
	cmd "$c  # untimed"
	TREE_SRC=$TREE_SRC NTREE=$NTREE bash -c "$c" || true
	sizes=$(find "$work/tree" -type f -printf '%s\n' | sort -n)
	ntree=$(printf '%s\n' "$sizes" | grep -c . || true)
	[ "$ntree" -gt 0 ] || die "no readable file under $TREE_SRC"
	tree_mb=$(printf '%s\n' "$sizes" | awk '{ s += $1 } END { printf "%.1f", s / 1e6 }')
	tree_median=$(printf '%s\n' "$sizes" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	tree_info="$ntree files, $tree_mb MB, median size $tree_median bytes: the regular
files of $TREE_SRC that are not \*.gz and can be read, at most the first
$NTREE by path, copied once to \$work/tree with their relative paths (the
targets of issue 6 are for about 5,000).  Each run of a yardstick or of
gfs get -r writes to a directory that does not exist, removed and synced
before the run, untimed; the page-cache yardstick reads the tree first"
	what="$ntree files, $tree_mb MB"

	# the yardsticks: to disk, and from the page cache (warm first)
	c='cp -r "$work/tree" "$work/cp" && sync'
	tcs=$(median_fresh "$work/cp" "$c"); cmd "$c"
	row "cp -r + sync, $what (yardstick)" "$tcs" "$(rate "$ntree" "$tcs" 0) files/s"
	rm -rf "$work/cp"

	# The same documents through gfs bench, many clients, until put -r
	# and get -r can be timed (and after, as a comparison).  put takes
	# each once, at most; get reads those it put for DURATION.
	bench_row "gfs bench put, the tree as --size corpus, 16 clients" - '' \
	    --op put --size corpus "$work/tree" --clients 16 \
	    --duration "$DURATION"
	bench_row "gfs bench get, the tree as --size corpus, 16 clients" - '' \
	    --op get --size corpus "$work/tree" --clients 16 \
	    --duration "$DURATION" --files 10000000

	if has_r put; then
		# One run: the first write of these documents, on a cluster
		# of its own (the seed's holds them already, from gfs bench
		# above, and would only check that it does).
		stop_cluster
		rm -rf "$work/seed"
		start_cluster tree-cluster
		c='"$gfs" put -r "$work/tree" tree/'
		cmd "$c"
		t0=$(date +%s.%N)
		bash -c "$c" >/dev/null || die "gfs put -r failed"
		t1=$(date +%s.%N)
		t=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
		fs=$(rate "$ntree" "$t" 0)
		row "gfs put -r, $what (one run)" "$t" "$fs files/s, $(rate "$tree_mb" "$t" 1) MB/s" "" ">= 3600 files/s" "$(meets "$fs" '>=' 3600)"
		r=$(ratio "$t" "$tcs")
		row "ratio: gfs put -r / (cp -r + sync)" "" "$r" "" "<= 3x" "$(meets "${r%x}" '<=' 3)"
	else
		row "gfs put -r, $what" "" "skipped: gfs put -r not available" "" ">= 3600 files/s"
		row "ratio: gfs put -r / (cp -r + sync)" "" "skipped" "" "<= 3x"
	fi
	# The page-cache yardstick: its runs in turn with get -r's.
	find "$work/tree" -type f -exec cat {} + >/dev/null
	cc='cp -r "$work/tree" "$work/cp2"'
	if has_r put && has_r get; then
		c='"$gfs" get -r tree/ "$work/out"'
		read -r tcc t < <(median_pair "$work/cp2" "$cc" "$work/out" "$c") &&
			test -n "$t" || die "gfs get -r failed"
		cmd "$cc"
		row "cp -r from the page cache, $what (yardstick, runs in turn with get -r)" "$tcc" "$(rate "$ntree" "$tcc" 0) files/s"
		cmd "$c"
		diff -r "$work/tree" "$work/out" >"$work/diff" 2>&1 || {
			head -n 20 "$work/diff" >&2
			die "gfs get -r tree/ is not the tree it put"
		}
		rm -rf "$work/out" "$work/cp2"
		fs=$(rate "$ntree" "$t" 0)
		row "gfs get -r, $what" "$t" "$fs files/s, $(rate "$tree_mb" "$t" 1) MB/s" "" ">= 7800 files/s" "$(meets "$fs" '>=' 7800)"
		r=$(ratio "$t" "$tcc")
		row "ratio: gfs get -r / cp -r from the page cache" "" "$r" "" "<= 2x" "$(meets "${r%x}" '<=' 2)"
	else
		tcc=$(median_fresh "$work/cp2" "$cc"); cmd "$cc"
		row "cp -r from the page cache, $what (yardstick)" "$tcc" "$(rate "$ntree" "$tcc" 0) files/s"
		row "gfs get -r, $what" "" "skipped: gfs get -r not available" "" ">= 7800 files/s"
		row "ratio: gfs get -r / cp -r from the page cache" "" "skipped" "" "<= 2x"
	fi
	fi
fi

# GET_BATCH at one chunk server holding a million chunks: measured by
# t/bench-million.sh, whose markdown table goes into its own section.
million=''
if want million; then
	if [ -x "$top/t/bench-million.sh" ]; then
		cmd "t/bench-million.sh"
		rc=0
		timeout 1800 "$top/t/bench-million.sh" >"$work/million.md" || rc=$?
		if [ "$rc" = 0 ] && [ -s "$work/million.md" ]; then
			million=$(cat "$work/million.md")
			row "GET_BATCH, one chunk server, 1M chunks" "" "see \"GET_BATCH\" below" "" ">= 150000 chunks/s" "see below"
		else
			row "GET_BATCH, one chunk server, 1M chunks" "" "failed: t/bench-million.sh exit $rc" "" ">= 150000 chunks/s"
			bench_errors=$((bench_errors + 1))
		fi
	else
		row "GET_BATCH, one chunk server, 1M chunks" "" "not measured (no t/bench-million.sh)" "" ">= 150000 chunks/s"
	fi
fi

load1=$(cut -d" " -f1-3 /proc/loadavg)
{
	echo "# gfs benchmarks"
	echo
	echo "Written by \`make bench\` (t/bench.sh, BENCH=$BENCH) on $date0."
	echo
	echo "## Machine"
	echo
	echo "- $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
	echo "  $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) of memory, $(uname -sr)."
	echo "- Load average (1, 5, 15 min) at the start: $load0; at the end: $load1"
	echo "  (above $(nproc) means other work shared the cores)."
	echo "- Cluster, clients and yardsticks all on this one machine: a leader and"
	echo "  five chunk servers on loopback, 2 replicas, every put durable"
	echo "  (fdatasync on two chunk servers, Berkeley DB commit at the leader)."
	echo
	echo "## Results"
	echo
	echo "Seconds are the median of RUNS=$RUNS runs unless the row says"
	echo "otherwise; a gfs bench row is the run with the median ops/s of"
	echo "RUNS=$RUNS runs of at most $DURATION each"
	echo "(seconds from the first operation's start to the last one's end),"
	echo "with latencies in ms.  \"met\" compares the figure with the target"
	echo "of issue 6; a ratio is gfs's seconds over the yardstick's."
	echo
	echo "| what | seconds | rate | p50 / p99 / p999 ms | target | met |"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	if [ -n "$tree_info" ]; then
		echo
		echo "## The tree"
		echo
		echo "$tree_info."
	fi
	echo
	echo "## Commands"
	echo
	echo "Run from the top of the source tree with GFS_LEADER set to the fresh"
	echo "cluster; \$gfs is bin/gfs, \$work a scratch directory,"
	echo "NSMALL=$NSMALL, NTREE=$NTREE, TREE_SRC=$TREE_SRC."
	echo
	echo '```'
	printf '%s\n' "${cmds[@]}"
	echo '```'
	if [ -n "$million" ]; then
		echo
		echo "## GET_BATCH"
		echo
		echo "From t/bench-million.sh:"
		echo
		echo "$million"
	fi
} >"$top/BENCHMARKS.md"
echo "wrote BENCHMARKS.md"
[ "$bench_errors" = 0 ] || die "$bench_errors rows had errors"
