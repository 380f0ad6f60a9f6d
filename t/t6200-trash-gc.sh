#!/bin/bash
test_description='trash, undelete, purge and garbage collection of shared chunks'
. "$(dirname "$0")/test-lib.sh"

LEADER_FLAGS="--gc-interval 100ms"

# settled: the leader has nothing left to delete, and the servers hold
# exactly two copies of each chunk the leader counts
settled () {
	test "$(leader_stats | json_num gc_queue)" = 0 &&
	test "$(total_chunks)" = "$(( $(leader_stats | json_num chunks) * 2 ))"
}

test_expect_success 'start a cluster' '
	start_cluster 3
'

test_expect_success 'rm moves a file with its versions to the trash' '
	head -c 5000 /dev/urandom >t1 && head -c 7000 /dev/urandom >t2 &&
	gfs put t1 doc && gfs put t2 doc &&
	gfs rm doc &&
	test_expect_code 1 gfs get doc >out 2>err &&
	test -z "$(gfs ls)" &&
	gfs ls --trash >trash &&
	grep -q "^20[0-9-]* [0-9:]* doc$" trash &&
	gfs ls -l --trash >trash &&
	grep -q "^ *7000 *2 .* doc$" trash
'

test_expect_success 'the trash keeps its chunks' '
	wait_for settled &&
	test "$(leader_stats | json_num chunks)" = 12
'

test_expect_success 'undelete brings it back byte-identical, every version' '
	gfs undelete doc &&
	gfs get doc | cmp - t2 &&
	gfs get doc@1 | cmp - t1 &&
	test -z "$(gfs ls --trash)" &&
	test_expect_code 1 gfs undelete doc 2>err &&
	grep -q "not in the trash" err
'

test_expect_success 'undelete over a live name needs --as' '
	gfs rm doc &&
	echo new >n1 && gfs put n1 doc &&
	test_expect_code 3 gfs undelete doc 2>err &&
	grep -q "exists; use --as" err &&
	gfs undelete --as doc.old doc &&
	gfs get doc.old | cmp - t2 &&
	gfs get doc.old@1 | cmp - t1 &&
	gfs get doc | cmp - n1 &&
	test_expect_code 2 gfs undelete 2>err &&
	test_expect_code 2 gfs undelete --as "" doc 2>err
'

test_expect_success 'rm --purge frees the chunks at once, trash entries too' '
	wait_for settled &&
	before=$(total_chunks) &&
	gfs rm --purge doc.old &&
	test_expect_code 1 gfs get doc.old 2>err &&
	test_expect_code 1 gfs undelete doc.old 2>err &&
	wait_for settled &&
	test "$(total_chunks)" = $((before - 24)) &&
	gfs rm doc && gfs rm --purge doc &&
	test -z "$(gfs ls --trash)" &&
	test_expect_code 1 gfs rm --purge doc 2>err
'

test_expect_success 'shared chunks: only the unshared ones go' '
	head -c 20480 /dev/urandom >a &&
	{ head -c 10240 a; head -c 10240 /dev/urandom; } >c &&
	gfs put a A && gfs put a B && gfs put c C &&
	wait_for settled &&
	n0=$(total_chunks) &&
	gfs rm --purge A &&
	wait_for settled &&
	test "$(total_chunks)" = "$n0" &&
	gfs get B | cmp - a && gfs get C | cmp - c &&
	gfs rm --purge B &&
	wait_for settled &&
	test "$(total_chunks)" = $((n0 - 20)) &&
	gfs get C | cmp - c &&
	gfs rm --purge C &&
	wait_for settled &&
	test "$(total_chunks)" = $((n0 - 60)) &&
	chunk_stats 1 | json_num gc_deleted >n && test "$(cat n)" -gt 0
'

# A short TTL only once the state it acts on has been checked: a loaded
# machine (make test SANITIZE=1) can spend a second between two commands.
test_expect_success 'trash expiry frees the chunks' '
	head -c 4096 /dev/urandom >e && gfs put e E &&
	wait_for settled &&
	before=$(total_chunks) &&
	gfs rm E &&
	gfs ls --trash | grep -q " E$" &&
	stop_leader && start_leader --gc-interval 100ms --trash-ttl 1s &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	wait_for "test -z \"\$(gfs ls --trash)\"" 10 &&
	wait_for settled &&
	test "$(total_chunks)" = $((before - 8))
'

test_expect_success 'a put racing with the deletion of the same bytes keeps them' '
	stop_leader && start_leader --gc-interval 10ms &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	for i in $(seq 1 40); do
		head -c $((i * 300 + 1)) /dev/urandom >r$i &&
		gfs put r$i old$i || return 1
	done &&
	for i in $(seq 1 40); do
		gfs rm --purge old$i & p1=$!
		gfs put r$i new$i & p2=$!
		wait $p1 && wait $p2 || return 1
	done &&
	wait_for settled &&
	for i in $(seq 1 40); do
		gfs get new$i | cmp - r$i || return 1
	done &&
	gfs fsck >out
'

# The mapping is left under the default TTL and checked; a leader
# restarted with --pending-ttl 1s gives it 1 s from its start.  The
# leader of the tests below has the default TTL again: their puts must
# not race an expiry.
test_expect_success 'an abandoned put: its chunks go when its pending mapping expires' '
	wait_for settled &&
	before=$(total_chunks) &&
	head -c 5000 /dev/urandom >ab &&
	test_expect_code 99 env GFS_CRASH=client.put.after_commit gfs put ab ab &&
	test "$(total_chunks)" = $((before + 10)) &&
	test "$(leader_stats | json_num pending)" = 1 &&
	stop_leader && start_leader --gc-interval 100ms --pending-ttl 1s &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	wait_for "test \"\$(leader_stats | json_num pending)\" = 0" 10 &&
	wait_for settled &&
	test "$(total_chunks)" = "$before" &&
	test_expect_code 1 gfs get ab 2>err &&
	stop_leader && start_leader --gc-interval 100ms
'

# A put stopped between its mapping and its COMMIT on the chunk servers
# until the mapping expired and a round named its chunks: the COMMIT
# must not make them permanent, nothing refers to them any more.
test_expect_success 'a put that commits after its mapping expired leaves nothing' '
	stop_leader && start_leader --gc-interval 100ms --pending-ttl 1s &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	wait_for settled &&
	before=$(total_chunks) &&
	head -c 5000 /dev/urandom >late &&
	{
		GFS_CRASH=client.put.after_pending GFS_CRASH_STOP=1 \
			timeout -s KILL $((60 * ${GFS_TEST_SLOW:-1})) \
			gfs put late late &
	} &&
	wrap=$! &&
	wait_for "pid=\$(pgrep -P $wrap) && ps -o stat= -p \$pid | grep -q T" &&
	wait_for "test \"\$(leader_stats | json_num pending_expired)\" = 1" &&
	wait_for "test \"\$(leader_stats | json_num gc_queue)\" = 0" &&
	kill -CONT "$pid" &&
	test_expect_code 3 wait "$wrap" &&
	wait_for settled &&
	test "$(total_chunks)" = "$before" &&
	test_expect_code 1 gfs get late 2>err &&
	stop_leader && start_leader --gc-interval 100ms
'

# server_state I: chunk server I's state in the leader's RING reply
server_state () {
	printf 'RING\r\nQUIT\r\n' | gfs-raw -t 2000 "$LEADER_ADDR" | tr -d '\r' |
		awk -v a="${CHUNK_ADDR[$1]}" '$1 == "SERVER" && $3 == a { print $4 }'
}

# Repair copies carry the last round their sender carried out; a server
# that refuses copies sent before its own last round must still take
# those of a server that restarted since (it has accepted no round yet,
# but its floor covers the rounds before it).
test_expect_success 'a restarted server repairs onto servers that carried out rounds' '
	stop_leader && start_leader --gc-interval 100ms --health-interval 100ms \
		--remove-after 3 &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	head -c 20000 /dev/urandom >rs && gfs put rs rs && gfs rm --purge rs &&
	wait_for settled &&
	test "$(chunk_stats 2 | json_num gc_seq)" -gt 0 &&
	restart_chunk 1 &&
	test "$(chunk_stats 1 | json_num gc_seq)" = 0 &&
	head -c 40000 /dev/urandom >rs2 && gfs put rs2 rs2 &&
	stop_chunk 3 &&
	wait_for "test \"\$(server_state 3)\" = removed" 20 &&
	wait_for settled 60 &&
	gfs get rs2 | cmp - rs2 &&
	start_chunk 3 &&
	wait_for "test \"\$(server_state 3)\" = healthy" 20 &&
	stop_leader && start_leader --gc-interval 100ms &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	wait_for settled 60
'

# gc_crash POINT: the leader dies at POINT of a GC round; restarted, it
# finishes the round's work, live files read and fsck is clean.
gc_crash () {
	head -c 6000 /dev/urandom >keep.$1 && gfs put keep.$1 keep.$1 &&
	head -c 6000 /dev/urandom >gone.$1 && gfs put gone.$1 gone.$1 &&
	kill_leader &&
	GFS_CRASH=$1 start_leader --gc-interval 10ms &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	# The round may start, and the leader die, before the reply to the
	# purge is on the wire: the purge is committed either way.
	{ gfs rm --purge gone.$1 || true; } &&
	wait_for "! kill -0 $LEADER_PID 2>/dev/null" &&
	kill_leader &&
	start_leader --gc-interval 10ms &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	wait_for settled &&
	gfs get keep.$1 | cmp - keep.$1 &&
	test_expect_code 1 gfs get gone.$1 2>err &&
	gfs fsck >out
}

test_expect_success 'the leader killed after numbering a GC round' '
	gc_crash leader.gc.after_take
'

test_expect_success 'the leader killed after the servers deleted, before it knew' '
	gc_crash leader.gc.before_done
'

# Last: these leave an unreferenced chunk and move a server's round
# number far ahead.
test_expect_success 'a chunk server fences off deletion rounds (protocol)' '
	h=$(printf x | sha256sum | cut -c1-64) &&
	addr=${CHUNK_ADDR[1]} &&
	seq=$(chunk_stats 1 | json_num gc_seq) &&
	hi=$((seq + 1000000)) &&
	printf "PUT_PENDING fence1 $h 1\r\nx\r\nCOMMIT fence1 $((hi + 5))\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	grep -q "^OK 1$" out &&
	printf "DELETE_BATCH $((hi + 5)) $h\r\nHAS_BATCH $h\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	printf "OK 0\nHAVE $h\nEND\n" >want && cmp out want &&
	printf "DELETE_BATCH $((hi + 4)) $h\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	grep -q "^ERROR STALE" out &&
	printf "PUT_PENDING fence2 $h 1\r\nx\r\nDELETE_BATCH $((hi + 6)) $h\r\nHAS_BATCH $h\r\nCOMMIT fence2\r\nHAS_BATCH $h\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	printf "STORED\nOK 1\nEND\nOK 1\nHAVE $h\nEND\n" >want && cmp out want &&
	printf "DELETE_BATCH 0\r\nDELETE_BATCH x\r\nDELETE_BATCH $((hi + 7)) nothex\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	test "$(grep -c "^ERROR BAD_" out)" = 3
'

test_expect_success 'a COMMIT leaves out what a later round named (protocol)' '
	h=$(printf w | sha256sum | cut -c1-64) &&
	addr=${CHUNK_ADDR[1]} &&
	seq=$(chunk_stats 1 | json_num gc_seq) &&
	# named while pending by a round above the put gcseq: left out
	printf "PUT_PENDING late1 $h 1\r\nw\r\nDELETE_BATCH $((seq + 1)) $h\r\nCOMMIT late1 $seq\r\nHAS_BATCH $h\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	printf "STORED\nOK 0\nOK 0\nEND\n" >want && cmp out want &&
	# by a round the put gcseq covers: committed
	printf "PUT_PENDING late2 $h 1\r\nw\r\nDELETE_BATCH $((seq + 2)) $h\r\nCOMMIT late2 $((seq + 2))\r\nHAS_BATCH $h\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	printf "STORED\nOK 0\nOK 1\nHAVE $h\nEND\n" >want && cmp out want &&
	# a repair copy read before the last round here: left out
	printf "DELETE_BATCH $((seq + 3)) $h\r\nPUT_PENDING rep1 $h 1\r\nw\r\nCOMMIT rep1 0 $((seq + 2))\r\nHAS_BATCH $h\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	printf "OK 1\nSTORED\nOK 0\nEND\n" >want && cmp out want &&
	printf "PUT_PENDING rep2 $h 1\r\nw\r\nCOMMIT rep2 0 $((seq + 3))\r\nHAS_BATCH $h\r\nCOMMIT x 0 y\r\nQUIT\r\n" |
		gfs-raw "$addr" | tr -d "\r" >out &&
	printf "STORED\nOK 1\nHAVE $h\nEND\n" >want && head -n 4 out | cmp - want &&
	sed -n 5p out | grep -q "^ERROR BAD_NUMBER"
'

test_expect_success 'a restarted chunk server refuses rounds older than its HELLO' '
	restart_chunk 1 &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	h=$(printf y | sha256sum | cut -c1-64) &&
	printf "DELETE_BATCH 1 $h\r\nDELETE_BATCH 1\r\nQUIT\r\n" |
		gfs-raw "${CHUNK_ADDR[1]}" | tr -d "\r" >out &&
	printf "ERROR STALE%s\nOK 0\n" "$(sed -n "1s/^ERROR STALE//p" out)" >want &&
	cmp out want && grep -q "^ERROR STALE " out
'

test_expect_success 'servers stop cleanly' '
	stop_cluster
'

test_done
