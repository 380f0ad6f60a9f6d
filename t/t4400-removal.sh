#!/bin/bash
test_description='a server past --remove-after leaves the ring, repair makes fsck clean, it rejoins'
. "$(dirname "$0")/test-lib.sh"

# check_sums: every file of sums reads back with its checksum
check_sums () {
	local sum name
	while read -r sum name; do
		test "$(gfs --timeout 2s get "$name" | sha256sum | cut -c1-64)" = "$sum" ||
			{ echo >&2 "$name differs"; return 1; }
	done <sums
}

# ring_state I: chunk server I's state as the leader's RING says
ring_state () {
	printf 'RING\r\nQUIT\r\n' | gfs-raw -t 2000 "$LEADER_ADDR" | tr -d '\r' |
		awk -v a="${CHUNK_ADDR[$1]}" '$1 == "SERVER" && $3 == a { print $4 }'
}

test_expect_success 'a cluster of 5 with fast health checks and repair' '
	LEADER_FLAGS="--health-interval 100ms --remove-after 5" \
	CHUNK_FLAGS="--hello-interval 200ms --repair-interval 500ms --repair-rate 100M" \
		start_cluster 5 &&
	: >sums &&
	for i in $(seq 1 60); do
		head -c $((i * 1543 % 12000 + 1)) /dev/urandom >f &&
		gfs put f "f$i" &&
		echo "$(sha256sum <f | cut -c1-64) f$i" >>sums || return 1
	done &&
	wait_for "gfs fsck >/dev/null 2>&1" 30
'

test_expect_success 'stopped past --remove-after, it leaves the ring' '
	stop_chunk 4 &&
	wait_for "test \"\$(ring_state 4)\" = removed" 10 &&
	check_sums
'

test_expect_success 'repair brings fsck to clean with the remaining 4' '
	wait_for "gfs fsck >fsck.out 2>&1" 60 &&
	grep "0 under-replicated, 0 misplaced, 0 unreadable" fsck.out &&
	check_sums
'

test_expect_success 'restarted, it rejoins healthy and fsck is clean again' '
	start_chunk 4 --hello-interval 200ms --repair-interval 500ms --repair-rate 100M &&
	wait_for "test \"\$(ring_state 4)\" = healthy" 10 &&
	wait_for "gfs fsck >fsck.out 2>&1" 60 &&
	grep "0 under-replicated, 0 misplaced, 0 unreadable" fsck.out &&
	check_sums &&
	test "$(chunk_stats 4 | json_num chunks)" -gt 0
'

test_expect_success 'servers stop cleanly' '
	stop_cluster
'

test_done
