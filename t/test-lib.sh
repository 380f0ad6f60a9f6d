# t/test-lib.sh: TAP test library for the gfs shell tests (git's shape).
#
#	#!/bin/bash
#	test_description='what this script checks'
#	. "$(dirname "$0")/test-lib.sh"
#	test_expect_success 'title' 'commands && more commands'
#	test_done
#
# Options: -v (--verbose) shows command output on stderr, -i (--immediate)
# stops at the first failure.  Each script runs in t/trash.<script>, removed
# on success and kept on failure.  Test bodies run in this shell (eval), so
# cluster state set in one test is seen by the next; do not start servers in
# a subshell.  GFS_TEST_EXTERNAL=host:port makes start_cluster use a cluster
# you started yourself.
# shellcheck shell=bash disable=SC2034

GFS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
GFS_BIN=$GFS_ROOT/bin
PATH=$GFS_BIN:$GFS_ROOT/t/helper:$PATH
export GFS_ROOT GFS_BIN PATH
unset GFS_LEADER GFS_CRASH GFS_CRASH_STOP

verbose='' immediate='' skip_all=''
for arg; do
	case $arg in
	-v|--verbose) verbose=t ;;
	-i|--immediate) immediate=t ;;
	*) echo "Bail out! unknown option '$arg'"; exit 1 ;;
	esac
done

TEST_NAME=$(basename "$0" .sh)
TRASH=$GFS_ROOT/t/trash.$TEST_NAME
if ! { rm -rf "$TRASH" && mkdir -p "$TRASH" && cd "$TRASH"; }; then
	echo "Bail out! cannot make '$TRASH'"; exit 1
fi
# 3, 4: test output (stdout, stderr); 8, 9: the script's own stdout, stderr.
exec 8>&1 9>&2
if test -n "$verbose"; then exec 3>&2 4>&2; else exec 3>/dev/null 4>/dev/null; fi

test_count=0 test_failed=0 test_finished='' in_test=''
declare -A _WRAP=()	# daemon pid -> pid of its `timeout` wrapper
declare -a CHUNK_PID=() CHUNK_ADDR=() _CHUNK_ARGS=()
LEADER_PID='' LEADER_ADDR='' _LEADER_ARGS=''

say () { printf '%s\n' "$*" >&4; }

# A function, so that "return" in a test body ends only that test.
_run_body () { eval "$1"; }

test_expect_success () {
	test $# = 2 || { echo "Bail out! test_expect_success needs 2 args"; exit 1; }
	test_count=$((test_count + 1))
	say "expecting success of $test_count '$1': $2"
	in_test=t
	_run_body "$2" </dev/null >&3 2>&4
	local rc=$?
	in_test=''
	cd "$TRASH" || exit 1
	if test $rc = 0; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		printf '%s\n' "$2" | sed 's/^/#	/'
		if test -n "$immediate"; then
			echo "1..$test_count"
			echo "# stopped at the first failure (-i); trash kept in $TRASH"
			test_finished=t
			exit 1
		fi
	fi
}

# test_must_fail cmd...: cmd must exit non-zero, but not by a signal, nor
# 124 (timeout), 126 or 127 (could not run).
test_must_fail () {
	"$@"
	local rc=$?
	case $rc in
	0) echo >&2 "test_must_fail: command succeeded: $*" ;;
	124|126|127) echo >&2 "test_must_fail: timed out or not run ($rc): $*" ;;
	129|1[3-8][0-9]|19[0-2]) echo >&2 "test_must_fail: died by signal $((rc - 128)): $*" ;;
	*) return 0 ;;
	esac
	return 1
}

test_expect_code () {
	local want=$1 rc; shift
	"$@"; rc=$?
	test "$rc" = "$want" && return 0
	echo >&2 "test_expect_code: want exit $want, got $rc: $*"; return 1
}

test_cmp () { diff -u "$@"; }
test_must_be_empty () {
	test -f "$1" && ! test -s "$1" || { echo >&2 "'$1' is not empty:"; cat >&2 "$1"; return 1; }
}

# wait_for 'command' [seconds]: poll until the command succeeds.
wait_for () {
	# GFS_TEST_SLOW scales every bound: make test SANITIZE=1 sets 3.
	local end=$((SECONDS + ${2:-10} * ${GFS_TEST_SLOW:-1}))
	until eval "$1"; do
		test $SECONDS -lt $end || { echo >&2 "wait_for: timed out: $1"; return 1; }
		sleep 0.02
	done
}

# _spawn NAME cmd...: start a daemon under `timeout` with stdout to NAME.out,
# stderr appended to NAME.log; wait for its "ready" line.  Sets _PID, _ADDR.
_spawn () {
	local name=$1 wrap end; shift
	rm -f "$TRASH/$name.out" "$TRASH/$name.pid"
	echo "=== $(date '+%H:%M:%S') $*" >>"$TRASH/$name.log"
	# A daemon lives at most 10 minutes (GFS_TEST_SLOW times that).
	# shellcheck disable=SC2016
	timeout -s KILL $((600 * ${GFS_TEST_SLOW:-1})) \
		sh -c 'echo $$ >"$0"; exec "$@"' "$TRASH/$name.pid" \
		"$@" >"$TRASH/$name.out" 2>>"$TRASH/$name.log" </dev/null 3>&- 4>&- 8>&- 9>&- &
	wrap=$!
	end=$((SECONDS + 10 * ${GFS_TEST_SLOW:-1}))
	_ADDR='' _PID=''
	until _ADDR=$(sed -n 's/^ready \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$TRASH/$name.out") &&
		test -n "$_ADDR"; do
		if ! kill -0 "$wrap" 2>/dev/null || test $SECONDS -ge $end; then
			echo >&2 "$name did not become ready; last log lines:"
			tail -n 20 "$TRASH/$name.log" >&2
			_PID=$(cat "$TRASH/$name.pid" 2>/dev/null) ||
				{ kill -KILL "$wrap"; _PID=$wrap; }
			_WRAP[$_PID]=$wrap; _reap "$_PID" KILL
			return 1
		fi
		sleep 0.02
	done
	_PID=$(cat "$TRASH/$name.pid")
	_WRAP[$_PID]=$wrap
}

# _owned PID: the daemon is alive and still the child of its wrapper (so
# the PID cannot have been reused by some other process).
_owned () {
	local w=${_WRAP[$1]} st ppid
	test -n "$1" && test -n "$w" || return 1
	st=$(ps -o ppid=,stat= -p "$1" 2>/dev/null) || return 1
	read -r ppid st <<<"$st"
	test "$ppid" = "$w" && test "${st#Z}" = "$st"
}

_signal () { _owned "$1" && kill "-$2" "$1" 2>/dev/null; }

# _reap PID [SIG]: send SIG (TERM is followed by CONT, in case it was
# paused), wait up to 10 s (GFS_TEST_SLOW times that: LeakSanitizer's
# scan at exit is slow on a loaded machine) for the daemon to go (then
# KILL it and fail).
# Returns the daemon's exit status for TERM, 0 otherwise.  stderr is quiet
# meanwhile, or bash reports each job we killed as "Killed".
_reap () {
	local pid=$1 sig=$2 wrap=${_WRAP[$1]} end rc hung=''
	test -n "$pid" && test -n "$wrap" || return 0
	end=$((SECONDS + 10 * ${GFS_TEST_SLOW:-1}))
	{
		test -n "$sig" && _signal "$pid" "$sig" && _signal "$pid" CONT
		while _owned "$pid"; do
			test $SECONDS -ge $end && _signal "$pid" KILL && hung=t
			sleep 0.02
		done
		wait "$wrap"
		rc=$?
	} 2>/dev/null
	unset "_WRAP[$pid]"
	if test -n "$hung"; then
		echo >&2 "process $pid did not exit within $((10 * ${GFS_TEST_SLOW:-1})) s of SIG$sig; killed it"
		return 1
	elif test "$sig" = TERM && test $rc != 0; then
		echo >&2 "process $pid exited with status $rc after SIGTERM"
		return $rc
	fi
	return 0
}

_need_local () {
	test -z "$GFS_TEST_EXTERNAL" && return 0
	echo >&2 "${FUNCNAME[1]}: not available with GFS_TEST_EXTERNAL"; return 1
}

start_leader () {
	if test -n "$GFS_TEST_EXTERNAL"; then
		LEADER_ADDR=$GFS_TEST_EXTERNAL; export GFS_LEADER=$LEADER_ADDR; return 0
	fi
	_LEADER_ARGS=
	test $# = 0 || _LEADER_ARGS=$(printf ' %q' "$@")
	mkdir -p "$TRASH/leader"
	_spawn leader gfs-leader --listen "${LEADER_ADDR:-127.0.0.1:0}" \
		--data "$TRASH/leader" "$@" || return 1
	LEADER_PID=$_PID LEADER_ADDR=$_ADDR
	export GFS_LEADER=$LEADER_ADDR
}

start_chunk () {
	_need_local || return 1
	local i=$1; shift
	_CHUNK_ARGS[i]=
	test $# = 0 || _CHUNK_ARGS[i]=$(printf ' %q' "$@")
	mkdir -p "$TRASH/chunk$i"
	_spawn "chunk$i" gfs-chunkd --listen "${CHUNK_ADDR[i]:-127.0.0.1:0}" \
		--data "$TRASH/chunk$i" --leader "$LEADER_ADDR" "$@" || return 1
	CHUNK_PID[i]=$_PID CHUNK_ADDR[i]=$_ADDR
}

# ring_servers: the number of chunk servers the leader knows.
ring_servers () {
	printf 'RING\r\nQUIT\r\n' | gfs-raw -t 2000 "$LEADER_ADDR" |
		tr -d '\r' | awk '$1 == "RING" { print $4 }'
}

# start_cluster [N]: leader ($LEADER_FLAGS) and N chunk servers ($CHUNK_FLAGS).
start_cluster () {
	local n=${1:-5} i
	test -n "$GFS_TEST_EXTERNAL" && { start_leader; return; }
	# shellcheck disable=SC2086
	start_leader $LEADER_FLAGS || return 1
	for ((i = 1; i <= n; i++)); do
		# shellcheck disable=SC2086
		start_chunk "$i" $CHUNK_FLAGS || return 1
	done
	# shellcheck disable=SC2016
	wait_for 'test "$(ring_servers)" = "$n"'
}

# _stop VAR SIG: reap the daemon whose PID is in VAR, and clear VAR.
_stop () {
	_need_local || return 1
	local pid=${!1}
	eval "$1=''"
	_reap "$pid" "$2"
}
stop_chunk () { _stop "CHUNK_PID[$1]" TERM; }
kill_chunk () { _stop "CHUNK_PID[$1]" KILL; }
pause_chunk () { _need_local && _signal "${CHUNK_PID[$1]}" STOP; }
resume_chunk () { _need_local && _signal "${CHUNK_PID[$1]}" CONT; }
restart_chunk () {
	local i=$1
	stop_chunk "$i" || return 1
	eval "start_chunk $i ${_CHUNK_ARGS[i]}"
}

stop_leader () { _stop LEADER_PID TERM; }
kill_leader () { _stop LEADER_PID KILL; }
restart_leader () { stop_leader && eval "start_leader $_LEADER_ARGS"; }

# kill_all: SIGKILL every server this script started, and reap them.
kill_all () {
	local pid
	for pid in "${!_WRAP[@]}"; do _signal "$pid" KILL; done 2>/dev/null
	for pid in "${!_WRAP[@]}"; do _reap "$pid"; done
	LEADER_PID=; CHUNK_PID=(); PROXY_PID=()
}

# stop_cluster: SIGTERM everything; fails if any server exits non-zero.
stop_cluster () {
	local i rc=0
	test -n "$GFS_TEST_EXTERNAL" && return 0
	for i in "${!CHUNK_PID[@]}"; do stop_chunk "$i" || rc=1; done
	stop_leader || rc=1
	return $rc
}

# start_proxy NAME TARGET: a fault proxy (t/helper/gfs-proxy.c) in front
# of TARGET, logging each connection to proxy-NAME.log.  Sets
# PROXY_ADDR[NAME], the address to use instead of TARGET, and
# PROXY_CTL[NAME], its control port.
declare -A PROXY_PID=() PROXY_ADDR=() PROXY_CTL=()
start_proxy () {
	_need_local || return 1
	_spawn "proxy-$1" gfs-proxy -v "$2" || return 1
	PROXY_PID[$1]=$_PID PROXY_ADDR[$1]=$_ADDR
	PROXY_CTL[$1]=$(sed -n 's/^control \(127\.0\.0\.1:[0-9]*\)$/\1/p' \
		"$TRASH/proxy-$1.out")
}
stop_proxy () { _stop "PROXY_PID[$1]" TERM; }

# proxy_mode NAME MODE [MS]: pass, delay MS, drop, reset or blackhole,
# for new and open connections alike.
proxy_mode () {
	local name=$1 out; shift
	out=$(printf 'MODE %s\r\nQUIT\r\n' "$*" |
		gfs-raw -t 2000 "${PROXY_CTL[$name]}" | tr -d '\r')
	test "$out" = OK || { echo >&2 "proxy $name: MODE $*: $out"; return 1; }
}

# proxy_stat NAME KEY: one number (or word) of the proxy's STATS.
proxy_stat () {
	printf 'STATS\r\nQUIT\r\n' | gfs-raw -t 2000 "${PROXY_CTL[$1]}" |
		tr -d '\r' | awk -v k="$2" '$1 == "STAT" && $2 == k { print $3 }'
}

# _stats ADDR: the JSON of a STATS reply.
_stats () {
	printf 'STATS\r\nQUIT\r\n' | gfs-raw -t 2000 "$1" | tr -d '\r' |
		awk '/^END$/ { exit } body { print } /^VALUE stats / { body = 1 }'
}
chunk_stats () { _stats "${CHUNK_ADDR[$1]}"; }
leader_stats () { _stats "$LEADER_ADDR"; }

# json_num KEY: the number of "KEY" in the JSON object on stdin.
json_num () { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p"; }

# sum_stat KEY: STATS member KEY of every running chunk server, summed
sum_stat () {
	local i n=0 v
	for i in "${!CHUNK_ADDR[@]}"; do
		test -n "${CHUNK_PID[i]}" || continue
		v=$(chunk_stats "$i" | json_num "$1") && test -n "$v" || return 1
		n=$((n + v))
	done
	echo "$n"
}

# total_chunks: the chunks all running chunk servers hold
total_chunks () { sum_stat chunks; }

# lookup_hashes NAME: the chunk hashes of a file, one a line (NAME as on
# the wire, percent-encoded).
lookup_hashes () {
	printf 'LOOKUP %s\r\nQUIT\r\n' "$1" | gfs-raw -t 5000 "$LEADER_ADDR" |
		tr -d '\r' | grep -E '^[0-9a-f]{64}$'
}

# replica_counts: for each hash on stdin (one a line), how many running
# chunk servers hold it, asked with their own HAS_BATCH: "COUNT HASH".
replica_counts () {
	local i hashes
	hashes=$(cat)
	{
		for i in "${!CHUNK_ADDR[@]}"; do
			test -n "${CHUNK_PID[i]}" || continue
			printf '%s\n' "$hashes" | awk 'NF {
				printf "%s%s", (n % 250 ? " " : (n ? "\r\nHAS_BATCH " : "HAS_BATCH ")), $1; n++
			} END { if (n) printf "\r\n"; printf "QUIT\r\n" }' |
				gfs-raw -t 5000 "${CHUNK_ADDR[i]}" | tr -d '\r' |
				awk '$1 == "HAVE" { print $2 }'
		done
		printf '%s\n' "$hashes"	# every hash at least once
	} | sort | uniq -c | awk '{ print $1 - 1, $2 }'
}

# put_many N PREFIX: N files of varied sizes, their checksums in sums.PREFIX
put_many () {
	local i
	: >"sums.$2"
	for ((i = 0; i < $1; i++)); do
		head -c $((i * 997 % 9000 + 1)) /dev/urandom >"$2.$i" &&
		gfs put "$2.$i" &&
		echo "$(sha256sum <"$2.$i" | cut -c1-64) $2.$i" >>"sums.$2" || return 1
		rm -f "$2.$i"
	done
}

# check_all PREFIX: every file of put_many reads back byte-identical
check_all () {
	local sum name
	while read -r sum name; do
		test "$(gfs get "$name" | sha256sum | cut -c1-64)" = "$sum" ||
			{ echo >&2 "$name differs"; return 1; }
	done <"sums.$1"
}

test_done () {
	test_finished=t
	kill_all
	cd "$GFS_ROOT/t" || exit 1
	if test -n "$skip_all"; then
		echo "1..0 # SKIP $skip_all"; rm -rf "$TRASH"; exit 0
	fi
	echo "1..$test_count"
	if test "$test_failed" -gt 0; then
		echo "# failed $test_failed of $test_count; trash kept in $TRASH"
		exit 1
	fi
	rm -rf "$TRASH"
	exit 0
}

_at_exit () {
	local rc=$?
	kill_all 2>&9
	if test -z "$test_finished"; then
		test -n "$in_test" || test_count=$((test_count + 1))
		echo >&8 "not ok $test_count - script exited (status $rc) before test_done"
		echo >&8 "1..$test_count"
		echo >&8 "# trash kept in $TRASH"
		test "$rc" = 0 && rc=1
	fi
	exit "$rc"
}
trap _at_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
