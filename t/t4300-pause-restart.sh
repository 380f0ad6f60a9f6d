#!/bin/bash
test_description='paused servers cost one timeout; a leader restart loses nothing acknowledged'
. "$(dirname "$0")/test-lib.sh"

# put_many N PREFIX: N files of varied sizes, checksums in sums.PREFIX
put_many () {
	local i
	: >"sums.$2"
	for ((i = 0; i < $1; i++)); do
		head -c $((i * 1999 % 20000 + 1)) /dev/urandom >"$2.$i" &&
		gfs put "$2.$i" &&
		echo "$(sha256sum <"$2.$i" | cut -c1-64) $2.$i" >>"sums.$2" || return 1
		rm -f "$2.$i"
	done
}

# check_sums FILE: every "SUM NAME" line reads back with that checksum
check_sums () {
	local sum name
	while read -r sum name; do
		test "$(gfs --timeout 1s get "$name" | sha256sum | cut -c1-64)" = "$sum" ||
			{ echo >&2 "$name differs"; return 1; }
	done <"$1"
}

# restart_leader_with FLAGS...: the leader again, on its port, with FLAGS
restart_leader_with () {
	stop_leader && start_leader "$@" &&
	wait_for "test \"\$(ring_servers)\" = 5"
}

# within SECONDS CMD...: CMD succeeds and takes at most SECONDS
within () {
	local limit=$1 t0 t1; shift
	t0=$(date +%s%N)
	"$@" || return 1
	t1=$(date +%s%N)
	echo "# took $(( (t1 - t0) / 1000000 )) ms: $*" >&2
	test $(( (t1 - t0) / 1000000 )) -le $((limit * 1000)) ||
		{ echo >&2 "took longer than $limit s: $*"; return 1; }
}

# First the leader checks health only every hour, so that the client
# alone has to cope with a paused server.
test_expect_success 'start a cluster' '
	LEADER_FLAGS="--health-interval 1h" \
	CHUNK_FLAGS="--hello-interval 200ms" start_cluster 5 &&
	put_many 20 a
'

test_expect_success 'a paused chunk server costs a read at most one timeout' '
	pause_chunk 2 &&
	gfs --timeout 1s status | grep "${CHUNK_ADDR[2]} .*down" &&
	for name in $(cut -d" " -f2 sums.a | head -n 5); do
		within 3 sh -c "gfs --timeout 1s get $name >/dev/null" || return 1
	done &&
	check_sums sums.a
'

test_expect_success 'puts go around a paused server' '
	: >sums.p &&
	for i in 1 2 3; do
		head -c 30000 /dev/urandom >p.$i &&
		within 4 gfs --timeout 1s put p.$i &&
		echo "$(sha256sum <p.$i | cut -c1-64) p.$i" >>sums.p || return 1
	done &&
	check_sums sums.p
'

test_expect_success 'the leader marks the paused server unhealthy, writes skip it' '
	restart_leader_with --health-interval 100ms --remove-after 1000 &&
	wait_for "gfs --timeout 1s status | grep \"${CHUNK_ADDR[2]} .*unhealthy\"" 10 &&
	test_expect_code 3 gfs --timeout 1s status >out &&
	head -c 30000 /dev/urandom >q && within 2 gfs --timeout 1s put q &&
	gfs --timeout 1s get q | cmp - q
'

test_expect_success 'resumed, it is healthy again' '
	resume_chunk 2 &&
	wait_for "gfs status >/dev/null" 10 &&
	check_sums sums.a && check_sums sums.p
'

# The paused server is resumed whatever the put did, so that a failure
# here is reported here and not again by every test after it.
test_expect_success 'pause during a large put: it finishes within its bound' '
	head -c 3000000 /dev/urandom >big &&
	( sleep 0.3; kill -STOP ${CHUNK_PID[4]} ) &
	stopper=$! &&
	{ within 8 gfs --timeout 1s put big; rc=$?; } &&
	wait $stopper &&
	resume_chunk 4 &&
	test "$rc" = 0 &&
	gfs get big | cmp - big
'

test_expect_success 'leader restart during steady puts and gets' '
	: >acked && : >failed &&
	(
		for i in $(seq 1 40); do
			head -c $((i * 331 % 5000 + 1)) /dev/urandom >w.$i
			if gfs --timeout 2s put w.$i; then
				echo "$(sha256sum <w.$i | cut -c1-64) w.$i" >>acked
			else
				echo "w.$i" >>failed
			fi
			gfs --timeout 2s get a.$((i % 20)) >/dev/null 2>&1
		done
	) &
	writer=$! &&
	wait_for "test \$(wc -l <acked) -ge 10" 30 &&
	restart_leader &&
	wait $writer &&
	echo "# acknowledged $(wc -l <acked), failed $(wc -l <failed)" &&
	test $(wc -l <acked) -ge 20 &&
	check_sums acked &&
	check_sums sums.a &&
	while read -r name; do
		# a failed put either completed or is invisible, never partial
		if gfs get "$name" >got 2>/dev/null; then
			cmp got "$name" || return 1
		else
			test_expect_code 1 gfs get "$name" || return 1
		fi
	done <failed
'

test_expect_success 'chunk servers re-registered by themselves' '
	wait_for "gfs status >/dev/null" 10 &&
	head -c 9000 /dev/urandom >after && gfs put after &&
	gfs get after | cmp - after
'

test_expect_success 'servers stop cleanly' '
	stop_cluster
'

test_done
