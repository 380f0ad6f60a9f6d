#!/bin/bash
test_description='chunk server protocol, by hand (gfs-protocol(7))'
. "$(dirname "$0")/test-lib.sh"
. "$GFS_ROOT/t/lib-proto.sh"

MISS=0000000000000000000000000000000000000000000000000000000000000000

test_expect_success 'set-up: leader, one chunk server, test chunks' '
	start_cluster 1 &&
	C1=${CHUNK_ADDR[1]} &&
	{ printf "a\0b\r\nEND\r\n" && head -c 90 /dev/urandom; } >A &&
	head -c 200 /dev/urandom >B &&
	: >E &&
	head -c 4096 /dev/urandom >F &&
	head -c 4097 /dev/urandom >G &&
	test "$(size_of A)" = 100 &&
	HA=$(hash_of A) HB=$(hash_of B) HE=$(hash_of E) HF=$(hash_of F) &&
	test "$HE" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
'

test_expect_success 'PING answers PONG and the server id' '
	printf "PING\r\n" | raw "$C1" >out &&
	grep -Eq "^PONG [0-9a-f]{16}\$" <(tr -d "\r" <out) &&
	test "$(wc -l <out)" = 1 &&
	ID1=$(tr -d "\r" <out | cut -d" " -f2) &&
	test "$(chunk_stats 1 | sed -n "s/.*\"id\":\"\([0-9a-f]*\)\".*/\1/p")" = "$ID1"
'

test_expect_success 'STATS is one JSON object; a new server holds nothing' '
	printf "STATS\r\n" | raw "$C1" >out &&
	head -n 1 out | grep -Eq "^VALUE stats [0-9]+.\$" &&
	len=$(head -n 1 out | tr -d "\r" | cut -d" " -f3) &&
	sed -n 2p out | tr -d "\r\n" >json &&
	test "$(size_of json)" = "$len" &&
	test "$(sed -n 3p out)" = "$(printf "END\r")" &&
	test "$(wc -l <out)" = 3 &&
	json_object json id chunks bytes pending segments uptime &&
	stat_is "$C1" chunks 0 && stat_is "$C1" bytes 0 && stat_is "$C1" pending 0
'

test_expect_success 'PUT_PENDING then COMMIT: STORED, OK 1' '
	{ put_req tx-a A && printf "COMMIT tx-a\r\n"; } | raw "$C1" >out &&
	printf "STORED\r\nOK 1\r\n" >expect &&
	test_cmp expect out &&
	stat_is "$C1" chunks 1 && stat_is "$C1" bytes 100 && stat_is "$C1" pending 0
'

test_expect_success 'a pending chunk is neither served nor listed until COMMIT' '
	put_req tx-b B | raw "$C1" >out &&
	printf "STORED\r\n" >expect && test_cmp expect out &&
	stat_is "$C1" pending 1 &&
	printf "GET_BATCH %s\r\nHAS_BATCH %s\r\n" "$HB" "$HB" | raw "$C1" >out &&
	printf "END\r\nEND\r\n" >expect && test_cmp expect out &&
	# COMMIT from another connection than the PUT_PENDING
	printf "COMMIT tx-b\r\n" | raw "$C1" >out &&
	printf "OK 1\r\n" >expect && test_cmp expect out &&
	stat_is "$C1" chunks 2 && stat_is "$C1" bytes 300 && stat_is "$C1" pending 0
'

test_expect_success 'a chunk of 0 bytes and one of exactly 4096 bytes (GFS_MAX_CHUNK)' '
	{ put_req tx-e E && put_req tx-e F && printf "COMMIT tx-e\r\n"; } |
		raw "$C1" >out &&
	printf "STORED\r\nSTORED\r\nOK 2\r\n" >expect && test_cmp expect out &&
	printf "GET_BATCH %s %s\r\n" "$HE" "$HF" | raw "$C1" >out &&
	{ printf "VALUE %s 0\r\n\r\n" "$HE" && value_of F &&
	  printf "END\r\n"; } >expect &&
	cmp expect out &&
	stat_is "$C1" chunks 4 && stat_is "$C1" bytes 4396
'

test_expect_success 'GET_BATCH: exact bytes in request order, misses left out' '
	printf "GET_BATCH %s %s %s %s\r\n" "$HB" "$MISS" "$HA" "$HB" |
		raw "$C1" >out &&
	{ value_of B && value_of A && value_of B && printf "END\r\n"; } >expect &&
	cmp expect out &&
	printf "GET_BATCH %s\r\n" "$MISS" | raw "$C1" >out &&
	printf "END\r\n" >expect && test_cmp expect out
'

test_expect_success 'GET_BATCH of 250 hashes (the limit)' '
	args=$(for i in $(seq 125); do printf " %s %s" "$HF" "$MISS"; done) &&
	printf "GET_BATCH%s\r\n" "$args" | raw "$C1" >out &&
	value_of F >vf &&
	{ for i in $(seq 125); do cat vf; done && printf "END\r\n"; } >expect &&
	cmp expect out
'

test_expect_success 'HAS_BATCH lists held chunks in request order' '
	printf "HAS_BATCH %s %s %s %s\r\n" "$HF" "$MISS" "$HA" "$HE" |
		raw "$C1" >out &&
	printf "HAVE %s\r\nHAVE %s\r\nHAVE %s\r\nEND\r\n" "$HF" "$HA" "$HE" \
		>expect &&
	test_cmp expect out
'

test_expect_success 'a chunk sent twice under one txid is committed once' '
	head -c 300 /dev/urandom >D && HD=$(hash_of D) &&
	{ put_req tx-d D && put_req tx-d D && printf "COMMIT tx-d\r\n"; } |
		send "$C1" >out &&
	printf "STORED\nSTORED\nOK 1\n" >expect && test_cmp expect out &&
	stat_is "$C1" chunks 5 && stat_is "$C1" bytes 4696
'

test_expect_success 'committing a chunk already held does not count it twice' '
	{ put_req tx-a2 A && printf "COMMIT tx-a2\r\n"; } | send "$C1" >out &&
	printf "STORED\nOK 1\n" >expect && test_cmp expect out &&
	stat_is "$C1" chunks 5 && stat_is "$C1" bytes 4696 &&
	printf "GET_BATCH %s\r\n" "$HA" | raw "$C1" >out &&
	{ value_of A && printf "END\r\n"; } >expect && cmp expect out
'

test_expect_success 'DELETE_BATCH: OK n counts held chunks; STATS drops' '
	printf "DELETE_BATCH 1 %s %s %s\r\n" "$HD" "$MISS" "$HA" | send "$C1" >out &&
	echo "OK 2" >expect && test_cmp expect out &&
	stat_is "$C1" chunks 3 && stat_is "$C1" bytes 4296 &&
	printf "HAS_BATCH %s %s %s\r\nGET_BATCH %s %s\r\n" "$HA" "$HD" "$HB" \
		"$HA" "$HD" | send "$C1" >out &&
	printf "HAVE %s\nEND\nEND\n" "$HB" >expect && test_cmp expect out &&
	printf "DELETE_BATCH 1 %s\r\n" "$HA" | send "$C1" >out &&
	echo "OK 0" >expect && test_cmp expect out
'

test_expect_success 'ABORT drops the pending chunks: OK n, then NOT_FOUND' '
	head -c 10 /dev/urandom >X && HX=$(hash_of X) &&
	{ put_req tx-x X && put_req tx-x A && printf "ABORT tx-x\r\n" &&
	  printf "COMMIT tx-x\r\nABORT tx-x\r\nHAS_BATCH %s %s\r\n" "$HX" "$HA"
	} | send "$C1" >out &&
	printf "%s\n" STORED STORED "OK 2" "ERROR NOT_FOUND" \
		"ERROR NOT_FOUND" END >expect &&
	test_cmp expect out &&
	stat_is "$C1" pending 0 && stat_is "$C1" chunks 3
'

test_expect_success 'COMMIT of an unknown or already committed txid: NOT_FOUND' '
	printf "COMMIT never-seen\r\nCOMMIT tx-a\r\nPING\r\n" | send "$C1" >out &&
	printf "%s\n" "ERROR NOT_FOUND" "ERROR NOT_FOUND" "PONG $ID1" >expect &&
	test_cmp expect out
'

test_expect_success 'HASH_MISMATCH keeps the connection; nothing is held' '
	{ put_req tx-m X "$HB" && printf "PING\r\nCOMMIT tx-m\r\n"; } |
		send "$C1" >out &&
	printf "%s\n" "ERROR HASH_MISMATCH" "PONG $ID1" "ERROR NOT_FOUND" >expect &&
	test_cmp expect out &&
	stat_is "$C1" pending 0 &&
	printf "HAS_BATCH %s\r\n" "$HX" | send "$C1" >out &&
	echo END >expect && test_cmp expect out
'

test_expect_success 'a block of 4097 bytes: TOO_LARGE and the server closes' '
	{ put_req tx-g G && printf "PING\r\n"; } | server_closes "$C1" >out &&
	echo "ERROR TOO_LARGE" >expect && test_cmp expect out &&
	stat_is "$C1" pending 0 && stat_is "$C1" chunks 3
'

test_expect_success 'STATS "chunks" and "bytes" match what is held' '
	stat_is "$C1" chunks 3 && stat_is "$C1" bytes $((200 + 0 + 4096)) &&
	stat_is "$C1" pending 0
'

test_expect_success 'a pending chunk expires after --pending-ttl' '
	start_chunk 2 --pending-ttl 300ms &&
	C2=${CHUNK_ADDR[2]} &&
	{ put_req tx-t B && printf "STATS\r\n"; } | raw "$C2" >out &&
	head -n 1 out | grep -q "^STORED" &&
	grep "^{" out | json_num pending >n && echo 1 >expect && test_cmp expect n &&
	wait_for "test \"\$(chunk_stats 2 | json_num pending)\" = 0" 5 &&
	printf "COMMIT tx-t\r\n" | send "$C2" >out &&
	printf "ERROR NOT_FOUND\n" >expect && test_cmp expect out &&
	# (B itself may reach server 2 anyway: server 1 holds it, and with
	# two servers and two replicas both own it, so repair copies it.)
	# Stopped now: its repair would copy back to server 1 what server 1
	# deleted, and the tests below count the chunks and blocks of server 1.
	stop_chunk 2
'

# check_held I: chunk server I holds exactly B, E and F.
check_held () {
	printf "GET_BATCH %s %s %s %s %s\r\n" "$HA" "$HB" "$HD" "$HE" "$HF" |
		raw "${CHUNK_ADDR[$1]}" >out &&
	{ value_of B && value_of E && value_of F && printf "END\r\n"; } >expect &&
	cmp expect out &&
	stat_is "${CHUNK_ADDR[$1]}" chunks 3 &&
	stat_is "${CHUNK_ADDR[$1]}" bytes 4296 &&
	stat_is "${CHUNK_ADDR[$1]}" pending 0 &&
	printf "PING\r\n" | send "${CHUNK_ADDR[$1]}" >out &&
	echo "PONG $ID1" >expect && test_cmp expect out
}

test_expect_success 'committed chunks survive a restart; pending ones do not' '
	put_req tx-r X | send "$C1" >out && echo STORED >expect &&
	test_cmp expect out &&
	restart_chunk 1 &&
	test "${CHUNK_ADDR[1]}" = "$C1" &&
	check_held 1 &&
	printf "COMMIT tx-r\r\n" | send "$C1" >out &&
	echo "ERROR NOT_FOUND" >expect && test_cmp expect out
'

test_expect_success 'committed chunks survive kill -9' '
	head -c 700 /dev/urandom >K && HK=$(hash_of K) &&
	{ put_req tx-k K && printf "COMMIT tx-k\r\n"; } | send "$C1" >out &&
	printf "STORED\nOK 1\n" >expect && test_cmp expect out &&
	kill_chunk 1 &&
	start_chunk 1 &&
	printf "GET_BATCH %s\r\nDELETE_BATCH 1 %s\r\n" "$HK" "$HK" |
		raw "$C1" >out &&
	{ value_of K && printf "END\r\nOK 1\r\n"; } >expect && cmp expect out &&
	check_held 1 &&
	kill_chunk 1 &&
	start_chunk 1 &&
	check_held 1
'

# pool_batch TXID END: 50 new chunks of 1000 bytes under TXID, then END
# (COMMIT or ABORT), on one connection; the reply is in out.
pool_batch () {
	local i
	for i in $(seq 50); do
		head -c 1000 /dev/urandom >P.$i && put_req "$1" P.$i || return 1
	done >batch.in &&
	printf "%s %s\r\n" "$2" "$1" >>batch.in &&
	send "$C1" <batch.in >out &&
	test "$(grep -c ^STORED out)" = 50 &&
	test "$(tail -n 1 out)" = "OK 50"
}

test_expect_success 'pending chunks sit in pooled blocks: no allocation once warm' '
	a0=$(chunk_stats 1 | json_num data_allocs) &&
	c0=$(chunk_stats 1 | json_num chunks) &&
	pool_batch tx-p1 COMMIT &&
	a1=$(chunk_stats 1 | json_num data_allocs) &&
	test "$a1" -ge $((a0 + 50)) &&
	pool_batch tx-p2 COMMIT && pool_batch tx-p3 ABORT &&
	pool_batch tx-p4 COMMIT &&
	stat_is "$C1" data_allocs "$a1" &&
	stat_is "$C1" pending 0 && stat_is "$C1" chunks $((c0 + 150)) &&
	for f in P.1 P.50; do
		printf "GET_BATCH %s\r\n" "$(hash_of $f)" | raw "$C1" >out &&
		{ value_of $f && printf "END\r\n"; } >expect &&
		test_cmp expect out || return 1
	done
'

test_expect_success 'the servers stop cleanly on SIGTERM' '
	stop_cluster
'

test_done
