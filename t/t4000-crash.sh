#!/bin/bash
test_description='kill -9, crash points, torn tails: nothing acknowledged is lost'
. "$(dirname "$0")/test-lib.sh"

# no_pending: no server holds pending state any more
no_pending () {
	local i
	for i in "${!CHUNK_PID[@]}"; do
		test -z "${CHUNK_PID[i]}" ||
		test "$(chunk_stats "$i" | json_num pending)" = 0 || return 1
	done
	test "$(leader_stats | json_num pending)" = 0
}

test_expect_success 'start a cluster and put 40 files' '
	LEADER_FLAGS="--pending-ttl 1s" CHUNK_FLAGS="--pending-ttl 1s" start_cluster 5 &&
	put_many 40 a &&
	check_all a
'

test_expect_success 'kill -9 any one chunk server: every file still reads' '
	for i in 1 2 3 4 5; do
		kill_chunk $i &&
		check_all a &&
		start_chunk $i --pending-ttl 1s || return 1
	done
'

test_expect_success 'puts go on with a chunk server dead, and read back' '
	kill_chunk 3 &&
	put_many 10 b &&
	check_all b &&
	start_chunk 3 --pending-ttl 1s &&
	check_all b
'

test_expect_success 'kill -9 every process right after a put, restart: it reads back' '
	head -c 70000 /dev/urandom >k && gfs put k &&
	kill_all &&
	start_leader --pending-ttl 1s &&
	for i in 1 2 3 4 5; do start_chunk $i --pending-ttl 1s || return 1; done &&
	wait_for "test \"\$(ring_servers)\" = 5" &&
	gfs get k | cmp - k &&
	check_all a && check_all b
'

# A client that dies at each step of a put before the leader commits.
for point in client.put.after_chunks client.put.after_pending client.put.after_commit; do
	test_expect_success "client dies at $point: never visible, pending dropped" "
		head -c 5000 /dev/urandom >dead &&
		test_expect_code 99 env GFS_CRASH=$point gfs put dead dead-$point &&
		test_expect_code 1 gfs get dead-$point &&
		! gfs ls | grep -F dead-$point &&
		wait_for no_pending 10 &&
		test_expect_code 1 gfs get dead-$point
	"
done

test_expect_success 'a pending put expires: its late COMMIT fails' '
	printf "PUT_PENDING late%s %s 1\r\nx\r\n" "" \
		"$(printf x | sha256sum | cut -c1-64)" >req &&
	gfs-raw -t 2000 "${CHUNK_ADDR[1]}" <req | tr -d "\r" >out &&
	grep -x STORED out &&
	wait_for "test \"\$(chunk_stats 1 | json_num pending)\" = 0" 10 &&
	printf "COMMIT late\r\n" | gfs-raw -t 2000 "${CHUNK_ADDR[1]}" | grep "ERROR NOT_FOUND"
'

# A chunk server that dies inside COMMIT: that attempt fails, the put
# starts again without it and succeeds, and the file reads back.
for point in chunk.commit.after_append chunk.commit.after_sync; do
	test_expect_success "chunk server crashes at $point: the put goes elsewhere" "
		kill_chunk 2 &&
		GFS_CRASH=$point start_chunk 2 --pending-ttl 1s &&
		head -c 40000 /dev/urandom >c &&
		gfs put c crash-$point &&
		wait_for '! kill -0 \${CHUNK_PID[2]} 2>/dev/null' &&
		gfs get crash-$point | cmp - c &&
		kill_chunk 2 && start_chunk 2 --pending-ttl 1s &&
		gfs get crash-$point | cmp - c &&
		check_all a
	"
done

# The leader dies after committing, before replying: the put is reported
# failed but its version is durable; one that dies after the pending
# mapping leaves nothing visible.  That mapping's log is written, not
# flushed (gfs-protocol(7)): it outlives the process all the same.
test_expect_success 'leader crashes after the pending mapping' '
	kill_leader &&
	GFS_CRASH=leader.pending.after_txn start_leader --pending-ttl 1s &&
	wait_for "test \"\$(ring_servers)\" = 5" &&
	head -c 3000 /dev/urandom >lp &&
	test_must_fail gfs put lp lp &&
	kill_leader && start_leader --pending-ttl 5s &&
	test "$(leader_stats | json_num pending)" = 1 &&
	wait_for "test \"\$(ring_servers)\" = 5" &&
	test_expect_code 1 gfs get lp &&
	wait_for "test \"\$(leader_stats | json_num pending)\" = 0" 10 &&
	test_expect_code 1 gfs get lp
'

test_expect_success 'leader crashes after committing: the version is there' '
	kill_leader &&
	GFS_CRASH=leader.commit.after_txn start_leader --pending-ttl 1s &&
	wait_for "test \"\$(ring_servers)\" = 5" &&
	head -c 3000 /dev/urandom >lc &&
	test_must_fail gfs put lc lc &&
	kill_leader && start_leader --pending-ttl 1s &&
	wait_for "test \"\$(ring_servers)\" = 5" &&
	gfs get lc | cmp - lc
'

test_expect_success 'a torn tail is cut on start and the rest reads' '
	stop_chunk 4 &&
	seg=$(ls "$TRASH"/chunk4/seg-*.dat | tail -n 1) &&
	size=$(stat -c %s "$seg") &&
	head -c 1000 /dev/urandom >>"$seg" &&
	start_chunk 4 --pending-ttl 1s &&
	test "$(chunk_stats 4 | json_num truncated_bytes)" = 1000 &&
	test "$(stat -c %s "$seg")" = "$size" &&
	check_all a
'

test_expect_success 'a half-written last record is cut too' '
	head -c 9000 /dev/urandom >t1 && gfs put t1 &&
	stop_chunk 5 &&
	seg=$(ls "$TRASH"/chunk5/seg-*.dat | tail -n 1) &&
	size=$(stat -c %s "$seg") &&
	truncate -s $((size - 7)) "$seg" &&
	start_chunk 5 --pending-ttl 1s &&
	test "$(chunk_stats 5 | json_num truncated_bytes)" -gt 0 &&
	gfs get t1 | cmp - t1 &&
	check_all a
'

# The newest segment is zero-filled ahead of its records; a clean stop
# cuts the zeros, a crash leaves them.
test_expect_success 'zeros after the records are their end, not a tear' '
	stop_chunk 3 &&
	seg=$(ls "$TRASH"/chunk3/seg-*.dat | tail -n 1) &&
	size=$(stat -c %s "$seg") &&
	truncate -s $((size + 1048576)) "$seg" &&
	start_chunk 3 &&
	test "$(chunk_stats 3 | json_num truncated_bytes)" = 0 &&
	test "$(chunk_stats 3 | json_num zero_bytes)" = 1048576 &&
	test "$(stat -c %s "$seg")" = $((size + 1048576)) &&
	head -c 30000 /dev/urandom >z1 && gfs put z1 &&
	check_all a && gfs get z1 | cmp - z1 &&
	stop_chunk 3 &&
	start_chunk 3 &&
	test "$(chunk_stats 3 | json_num zero_bytes)" = 0 &&
	check_all a && gfs get z1 | cmp - z1
'

test_expect_success 'a record torn into the zeros is cut, zeros and all' '
	stop_chunk 3 &&
	seg=$(ls "$TRASH"/chunk3/seg-*.dat | tail -n 1) &&
	size=$(stat -c %s "$seg") &&
	truncate -s $((size + 1048576)) "$seg" &&
	head -c 700 /dev/urandom | dd of="$seg" bs=1 seek=$size conv=notrunc 2>/dev/null &&
	start_chunk 3 &&
	test "$(chunk_stats 3 | json_num truncated_bytes)" = 1048576 &&
	test "$(stat -c %s "$seg")" = "$size" &&
	check_all a && gfs get z1 | cmp - z1
'

test_expect_success 'a flipped byte is never served: the reader fails over' '
	printf "bitrot test\n" >rot && gfs put rot &&
	h=$(lookup_hashes rot) &&
	for i in 1 2 3 4 5; do
		printf "HAS_BATCH %s\r\nQUIT\r\n" $h | gfs-raw "${CHUNK_ADDR[i]}" |
			grep -q HAVE && victim=$i && break
	done &&
	stop_chunk $victim &&
	seg=$(grep -l "bitrot test" "$TRASH"/chunk$victim/seg-*.dat) &&
	off=$(grep -obUa "bitrot test" "$seg" | head -n 1 | cut -d: -f1) &&
	printf "B" | dd of="$seg" bs=1 seek=$off conv=notrunc 2>/dev/null &&
	start_chunk $victim --pending-ttl 1s &&
	printf "GET_BATCH %s\r\nQUIT\r\n" $h | gfs-raw "${CHUNK_ADDR[victim]}" >direct &&
	! grep -q VALUE direct &&
	gfs get rot | cmp - rot
'

test_expect_success 'servers stop cleanly' '
	stop_cluster
'

test_done
