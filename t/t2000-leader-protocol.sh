#!/bin/bash
test_description='leader protocol, by hand (gfs-protocol(7))'
. "$(dirname "$0")/test-lib.sh"
. "$GFS_ROOT/t/lib-proto.sh"

# lput TXID NAME SIZE NCHUNKS [HASH...]: a leader PUT_PENDING and its hash
# lines (NAME as on the wire).
lput () {
	printf 'PUT_PENDING %s %s %s %s\r\n' "$1" "$2" "$3" "$4"
	shift 4
	test $# = 0 || printf '%s\r\n' "$@"
}

# lsend: send stdin to the leader and print the reply as send does, with
# FILE and ENTRY lines made comparable: an mtime between the start of
# this script and now becomes MTIME, the current ring epoch EPOCH (in
# FILE lines and PUT_PENDING's "OK <gcseq> <epoch>"), and a
# name's %40 becomes @ (see the '@' note in the EXPECTED section below).
lsend () {
	send "$LEADER_ADDR" |
	awk -v lo="$T0" -v hi="$(($(date +%s) + 5))" -v ep="$EPOCH" '
		function when(t) {
			if (t ~ /^[0-9]+$/ && t + 0 >= lo && t + 0 <= hi)
				return "MTIME"
			return "BAD_MTIME(" t ")"
		}
		$1 == "FILE" && NF == 9 {
			$6 = when($6)
			if ($7 == ep) $7 = "EPOCH"
		}
		$1 == "OK" && NF == 3 && $3 == ep { $3 = "EPOCH" }
		$1 == "ENTRY" && NF == 5 { $5 = when($5) }
		$1 == "FILE" || $1 == "ENTRY" { gsub(/%40/, "@", $2) }
		{ print }'
}

# EXPECTED: '@' in reply names.  gfs-protocol(7) lists the bytes that are
# percent-encoded and says every other byte, so '@', "is written as
# itself"; the leader also encodes '@' in the names it replies with (so
# that they can be sent back to LOOKUP as they are).  Until the page and
# the code agree, these tests accept both spellings.

H1=$(hash_str one) H2=$(hash_str two) H3=$(hash_str three)
H4=$(hash_str four) H5=$(hash_str five)

test_expect_success 'set-up: leader and two chunk servers' '
	T0=$(date +%s) &&
	start_cluster 2 &&
	L=$LEADER_ADDR &&
	ID1=$(printf "PING\r\n" | send "${CHUNK_ADDR[1]}" | sed -n "s/^PONG //p") &&
	ID2=$(printf "PING\r\n" | send "${CHUNK_ADDR[2]}" | sed -n "s/^PONG //p") &&
	test -n "$ID1" && test -n "$ID2"
'

test_expect_success 'PING answers PONG leader' '
	printf "PING\r\nPING\n" | raw "$L" >out &&
	printf "PONG leader\r\nPONG leader\r\n" >expect &&
	test_cmp expect out
'

# servers_of: "id addr state ntokens misses" of each SERVER line of the
# RING reply on stdin, sorted.
servers_of () { awk '$1 == "SERVER" { print $2, $3, $4, $5, $6 }' | sort; }

# epoch_of [FILE]: the epoch of a RING reply.
epoch_of () { head -n 1 "$@" | cut -d" " -f2; }

# tokens_per_line: the number of tokens of each TOKENS line on stdin.
tokens_per_line () { awk '$1 == "TOKENS" { print NF - 1 }'; }

test_expect_success 'RING lists the registered servers, healthy, with their tokens' '
	printf "RING\r\n" | send "$L" >out &&
	ring_check <out &&
	head -n 1 out | grep -Eq "^RING [0-9]+ 2 2 fixed\$" &&
	EPOCH=$(head -n 1 out | cut -d" " -f2) &&
	test "$EPOCH" -ge 2 &&
	printf "%s %s healthy 128 0\n" "$ID1" "${CHUNK_ADDR[1]}" \
		"$ID2" "${CHUNK_ADDR[2]}" | sort >expect &&
	servers_of <out >actual &&
	test_cmp expect actual &&
	# RING, then SERVER and one TOKENS line of 128 for each, then END
	test "$(wc -l <out)" = 6 &&
	tokens_per_line <out >actual && printf "128\n128\n" >expect &&
	test_cmp expect actual &&
	test "$(tail -n 1 out)" = END &&
	# the tokens do not change from one RING to the next
	printf "RING\r\n" | send "$L" | ring_norm >again &&
	ring_norm <out >first && test_cmp first again
'

test_expect_success 'HELLO with a bad id or address: BAD_ARGS, ring unchanged' '
	id65=$(printf "%065d" 0) &&
	for req in \
		"HELLO bad!id 127.0.0.1:9" \
		"HELLO $id65 127.0.0.1:9" \
		"HELLO 0123456789abcdef 127.0.0.1" \
		"HELLO 0123456789abcdef 127.0.0.1:" \
		"HELLO 0123456789abcdef :9" \
		"HELLO 0123456789abcdef 127.0.0.1:0" \
		"HELLO 0123456789abcdef 127.0.0.1:65536" \
		"HELLO 0123456789abcdef 127.0.0.1:-1" \
		"HELLO 0123456789abcdef 127.0.0.1:9x" \
		"HELLO 0123456789abcdef" \
		"HELLO 0123456789abcdef 127.0.0.1:9 x"
	do
		printf "%s\r\n" "$req" || break
	done | send "$L" >out &&
	for i in $(seq 11); do echo "ERROR BAD_ARGS"; done >expect &&
	test_cmp expect out &&
	printf "RING\r\n" | send "$L" >out &&
	head -n 1 out >actual && echo "RING $EPOCH 2 2 fixed" >expect &&
	test_cmp expect actual
'

test_expect_success 'HELLO of a known server at its address: OK epoch, unchanged' '
	printf "HELLO %s %s\r\nRING\r\n" "$ID1" "${CHUNK_ADDR[1]}" |
		send "$L" >out &&
	printf "OK %s 0\nRING %s 2 2 fixed\n" "$EPOCH" "$EPOCH" >expect &&
	head -n 2 out >actual && test_cmp expect actual
'

test_expect_success 'PUT_PENDING then COMMIT: OK, OK 1; LOOKUP gives the file' '
	lput tx1 notes/hello%20world.txt 5 1 "$H1" | lsend >out &&
	echo "OK 0 EPOCH" >expect && test_cmp expect out &&
	printf "LOOKUP notes/hello%%20world.txt\r\n" | lsend >out &&
	echo "ERROR NOT_FOUND" >expect && test_cmp expect out &&
	printf "COMMIT tx1\r\nLOOKUP notes/hello%%20world.txt\r\n" | lsend >out &&
	printf "%s\n" "OK 1" \
		"FILE notes/hello%20world.txt 1 5 1 MTIME EPOCH - fixed" "$H1" END >expect &&
	test_cmp expect out
'

test_expect_success 'LOOKUP gives the hashes in order' '
	{ lput tx2 three 2049 3 "$H3" "$H1" "$H2" &&
	  printf "COMMIT tx2\r\nLOOKUP three\r\n"; } | lsend >out &&
	printf "%s\n" "OK 0 EPOCH" "OK 1" "FILE three 1 2049 3 MTIME EPOCH - fixed" \
		"$H3" "$H1" "$H2" END >expect &&
	test_cmp expect out
'

test_expect_success 'a second put makes version 2; name@1 is still version 1' '
	{ lput tx3 notes/hello%20world.txt 1030 2 "$H4" "$H5" &&
	  printf "COMMIT tx3\r\n"; } | lsend >out &&
	printf "OK 0 EPOCH\nOK 2\n" >expect && test_cmp expect out &&
	printf "LOOKUP %s\r\n" notes/hello%20world.txt notes/hello%20world.txt@1 \
		notes/hello%20world.txt@2 notes/hello%20world.txt@3 | lsend >out &&
	printf "%s\n" \
		"FILE notes/hello%20world.txt 2 1030 2 MTIME EPOCH - fixed" "$H4" "$H5" END \
		"FILE notes/hello%20world.txt 1 5 1 MTIME EPOCH - fixed" "$H1" END \
		"FILE notes/hello%20world.txt 2 1030 2 MTIME EPOCH - fixed" "$H4" "$H5" END \
		"ERROR NOT_FOUND" >expect &&
	test_cmp expect out
'

test_expect_success 'LOOKUP of a version that is not a number: BAD_NUMBER' '
	printf "LOOKUP three@%s\r\n" x -1 +1 1x "" 99999999999999999999999 |
		lsend >out &&
	for i in $(seq 6); do echo "ERROR BAD_NUMBER"; done >expect &&
	test_cmp expect out
'

# "my doc@x ü" is 6d 79 20 64 6f 63 40 78 20 c3 bc.
MYDOC=my%20doc%40x%20%C3%BC

test_expect_success 'a name with a space, an @ and UTF-8 travels percent-encoded' '
	{ lput tx4 "$MYDOC" 3 1 "$H2" && printf "COMMIT tx4\r\n"; } |
		lsend >out &&
	printf "OK 0 EPOCH\nOK 1\n" >expect && test_cmp expect out &&
	printf "LOOKUP %s\r\n" "$MYDOC" "$MYDOC@1" my%20doc%40x%20%c3%bc |
		lsend >out &&
	for i in 1 2 3; do
		printf "%s\n" "FILE my%20doc@x%20%C3%BC 1 3 1 MTIME EPOCH - fixed" "$H2" END
	done >expect &&
	test_cmp expect out &&
	# the last @ splits off the version
	printf "LOOKUP my%%20doc@x%%20%%C3%%BC\r\nLOOKUP my%%20doc@1\r\n" |
		lsend >out &&
	printf "ERROR BAD_NUMBER\nERROR NOT_FOUND\n" >expect && test_cmp expect out
'

test_expect_success 'LIST gives the latest versions, sorted by decoded bytes' '
	# Encoded, "a!" sorts before "a%20b" and "%C3%A9" before "z";
	# decoded, "a b" (0x20) is before "a!" (0x21) and "z" before "é".
	i=0 &&
	for n in z %C3%A9 a%21 a%20b b/2 a b/1; do
		i=$((i + 1)) &&
		{ lput "tx-l$i" "$n" 0 0 && printf "COMMIT tx-l$i\r\n"; } |
			lsend >out &&
		printf "OK 0 EPOCH\nOK 1\n" >expect && test_cmp expect out || break
	done &&
	test $i = 7 &&
	printf "LIST\r\n" | lsend >out &&
	printf "%s\n" "ENTRY a 1 0 MTIME" "ENTRY a%20b 1 0 MTIME" \
		"ENTRY a! 1 0 MTIME" "ENTRY b/1 1 0 MTIME" "ENTRY b/2 1 0 MTIME" \
		"ENTRY my%20doc@x%20%C3%BC 1 3 MTIME" \
		"ENTRY notes/hello%20world.txt 2 1030 MTIME" \
		"ENTRY three 1 2049 MTIME" "ENTRY z 1 0 MTIME" \
		"ENTRY %C3%A9 1 0 MTIME" END >expect &&
	test_cmp expect out
'

test_expect_success 'LIST prefix' '
	printf "LIST %s\r\n" b/ a a%20 notes/hello%20 nothing %C3 |
		lsend >out &&
	printf "%s\n" "ENTRY b/1 1 0 MTIME" "ENTRY b/2 1 0 MTIME" END \
		"ENTRY a 1 0 MTIME" "ENTRY a%20b 1 0 MTIME" "ENTRY a! 1 0 MTIME" END \
		"ENTRY a%20b 1 0 MTIME" END \
		"ENTRY notes/hello%20world.txt 2 1030 MTIME" END \
		END \
		"ENTRY %C3%A9 1 0 MTIME" END >expect &&
	test_cmp expect out
'

test_expect_success 'leader STATS has "files", "servers" and "servers_active"' '
	leader_stats >json &&
	json_object json files servers servers_active epoch pending replicas \
		tokens uptime &&
	stat_is "$L" files 10 && stat_is "$L" servers 2 &&
	stat_is "$L" servers_active 2 && stat_is "$L" tokens 128 &&
	stat_is "$L" epoch "$EPOCH" && stat_is "$L" pending 0 &&
	stat_is "$L" replicas 2
'

test_expect_success 'DELETE removes every version; then NOT_FOUND' '
	printf "DELETE three\r\nDELETE notes/hello%%20world.txt\r\n" | lsend >out &&
	printf "OK\nOK\n" >expect && test_cmp expect out &&
	printf "LOOKUP %s\r\n" three notes/hello%20world.txt \
		notes/hello%20world.txt@1 notes/hello%20world.txt@2 | lsend >out &&
	for i in 1 2 3 4; do echo "ERROR NOT_FOUND"; done >expect &&
	test_cmp expect out &&
	printf "DELETE three\r\nLIST n\r\nLIST t\r\n" | lsend >out &&
	printf "ERROR NOT_FOUND\nEND\nEND\n" >expect && test_cmp expect out &&
	stat_is "$L" files 8
'

test_expect_success 'ABORT drops a pending mapping; COMMIT is then NOT_FOUND' '
	{ lput tx-ab aborted 5 1 "$H1" && printf "ABORT tx-ab\r\n" &&
	  printf "COMMIT tx-ab\r\nLOOKUP aborted\r\n"; } | lsend >out &&
	printf "%s\n" "OK 0 EPOCH" OK "ERROR NOT_FOUND" "ERROR NOT_FOUND" >expect &&
	test_cmp expect out &&
	stat_is "$L" pending 0 && stat_is "$L" files 8
'

test_expect_success 'COMMIT of an unknown or already committed txid: NOT_FOUND' '
	printf "COMMIT never-seen\r\nCOMMIT tx1\r\nPING\r\n" | lsend >out &&
	printf "%s\n" "ERROR NOT_FOUND" "ERROR NOT_FOUND" "PONG leader" >expect &&
	test_cmp expect out
'

test_expect_success 'an empty file has no chunks' '
	{ lput tx-e empty 0 0 && printf "COMMIT tx-e\r\nLOOKUP empty\r\n"; } |
		lsend >out &&
	printf "%s\n" "OK 0 EPOCH" "OK 1" "FILE empty 1 0 0 MTIME EPOCH - fixed" END >expect &&
	test_cmp expect out
'

test_expect_success 'nchunks that does not match size: BAD_NUMBER, still usable' '
	{ lput tx-n bad-n 5 2 "$H1" "$H2" && lput tx-n bad-n 1025 1 "$H1" &&
	  lput tx-n bad-n 0 1 "$H1" && lput tx-n bad-n 2048 3 "$H1" "$H2" "$H3" &&
	  lput tx-n bad-n 1024 0 &&
	  printf "PING\r\nCOMMIT tx-n\r\nLOOKUP bad-n\r\n"; } | lsend >out &&
	for i in 1 2 3 4 5; do echo "ERROR BAD_NUMBER"; done >expect &&
	printf "%s\n" "PONG leader" "ERROR NOT_FOUND" "ERROR NOT_FOUND" >>expect &&
	test_cmp expect out
'

test_expect_success 'a bad hash line: BAD_HASH after all lines, still usable' '
	{ lput tx-h bad-h 3072 3 "$H1" "${H2%?}" "$H3" &&
	  lput tx-h bad-h 3072 3 "$H1" "$H2" "$(echo "$H3" | tr a-f A-F)" &&
	  lput tx-h bad-h 2048 2 "${H1%?}g" "$H2" &&
	  lput tx-h bad-h 1024 1 "${H1}0" &&
	  lput tx-h bad-h 1024 1 "" &&
	  printf "PING\r\nCOMMIT tx-h\r\nLOOKUP bad-h\r\n"; } | lsend >out &&
	for i in 1 2 3 4 5; do echo "ERROR BAD_HASH"; done >expect &&
	printf "%s\n" "PONG leader" "ERROR NOT_FOUND" "ERROR NOT_FOUND" >>expect &&
	test_cmp expect out
'

BAD_NAMES='%2E%2E a%2F%2Fb %01 .. . a//b /a a/ a/./b a/../b %2E %00 % %4 %zz
%4g %C3 %FF %C0%AF %ED%A0%80 %7F a%0Ab a%09b'

test_expect_success 'bad names: BAD_NAME from PUT_PENDING, LOOKUP and DELETE' '
	n=0 &&
	for name in $BAD_NAMES; do
		n=$((n + 1)) &&
		lput tx-bn "$name" 5 1 "$H1" &&
		printf "LOOKUP %s\r\nLOOKUP %s@1\r\nDELETE %s\r\n" \
			"$name" "$name" "$name" || break
	done >req &&
	printf "PING\r\nCOMMIT tx-bn\r\n" >>req &&
	lsend <req >out &&
	for i in $(seq $((4 * n))); do echo "ERROR BAD_NAME"; done >expect &&
	printf "PONG leader\nERROR NOT_FOUND\n" >>expect &&
	test_cmp expect out
'

test_expect_success 'a name of 1024 bytes is fine, one of 1025 is BAD_NAME' '
	n1024=$(printf "%01024d" 0 | tr 0 x) &&
	e512=$(printf "%0512d" 0 | sed "s/0/%C3%A9/g") &&
	{ lput tx-1024 "$n1024" 5 1 "$H1" && printf "COMMIT tx-1024\r\n" &&
	  lput tx-e512 "$e512" 5 1 "$H1" && printf "COMMIT tx-e512\r\n" &&
	  printf "LOOKUP %s\r\n" "$n1024" "$e512" &&
	  lput tx-1025 "${n1024}y" 5 1 "$H1" &&
	  printf "LOOKUP %s\r\n" "${n1024}y" "${e512}y" &&
	  printf "COMMIT tx-1025\r\n"; } | lsend >out &&
	printf "%s\n" "OK 0 EPOCH" "OK 1" "OK 0 EPOCH" "OK 1" \
		"FILE $n1024 1 5 1 MTIME EPOCH - fixed" "$H1" END \
		"FILE $e512 1 5 1 MTIME EPOCH - fixed" "$H1" END \
		"ERROR BAD_NAME" "ERROR BAD_NAME" "ERROR BAD_NAME" \
		"ERROR NOT_FOUND" >expect &&
	test_cmp expect out
'

test_expect_success 'a txid pending with another name or chunk list: CONFLICT' '
	{ lput tx-c conflict 5 1 "$H1" && lput tx-c other 5 1 "$H1" &&
	  lput tx-c conflict 5 1 "$H2" && lput tx-c conflict 1030 2 "$H1" "$H2"
	} | lsend >out &&
	printf "%s\n" "OK 0 EPOCH" "ERROR CONFLICT" "ERROR CONFLICT" "ERROR CONFLICT" >expect &&
	test_cmp expect out &&
	printf "COMMIT tx-c\r\nLOOKUP conflict\r\nLOOKUP other\r\n" | lsend >out &&
	printf "%s\n" "OK 1" "FILE conflict 1 5 1 MTIME EPOCH - fixed" "$H1" END \
		"ERROR NOT_FOUND" >expect &&
	test_cmp expect out &&
	stat_is "$L" pending 0
'

test_expect_success 'the same PUT_PENDING sent again is not a conflict' '
	{ lput tx-r resent 5 1 "$H1" && lput tx-r resent 5 1 "$H1" &&
	  printf "COMMIT tx-r\r\nCOMMIT tx-r\r\n"; } | lsend >out &&
	printf "%s\n" "OK 0 EPOCH" "OK 0 EPOCH" "OK 1" "ERROR NOT_FOUND" >expect &&
	test_cmp expect out &&
	stat_is "$L" pending 0
'

# One read, one transaction: the requests a read brings in run as
# children of one Berkeley DB transaction (STATS "txns" counts the
# commits).  A request that fails undoes only its own child.
test_expect_success 'a pipelined batch is one transaction; a failure undoes only itself' '
	{
		for i in $(seq 50); do lput tx-b$i batch/$i 5 1 "$H1"; done &&
		lput tx-b7 batch/other 5 1 "$H2" &&
		for i in $(seq 50); do printf "COMMIT tx-b%s\r\n" $i; done &&
		printf "COMMIT tx-b7\r\nLOOKUP batch/50\r\nLOOKUP batch/other\r\n"
	} >batch.in &&
	test $(wc -c <batch.in) -lt 65536 &&
	t0=$(leader_stats | json_num txns) &&
	lsend <batch.in >out &&
	t1=$(leader_stats | json_num txns) &&
	{
		for i in $(seq 50); do echo "OK 0 EPOCH"; done &&
		echo "ERROR CONFLICT" &&
		for i in $(seq 50); do echo "OK 1"; done &&
		printf "%s\n" "ERROR NOT_FOUND" \
			"FILE batch/50 1 5 1 MTIME EPOCH - fixed" "$H1" END \
			"ERROR NOT_FOUND"
	} >expect &&
	test_cmp expect out &&
	echo "# 101 requests, $((t1 - t0)) transactions" &&
	test $((t1 - t0)) -ge 1 && test $((t1 - t0)) -le 5 &&
	stat_is "$L" pending 0 &&
	kill_leader && eval "start_leader $_LEADER_ARGS" &&
	test "$LEADER_ADDR" = "$L" &&
	EPOCH=$(printf "RING\r\n" | send "$L" | epoch_of) &&
	printf "LIST batch/\r\n" | lsend >out &&
	test $(grep -c "^ENTRY batch/" out) = 50
'

test_expect_success 'pending mappings, files and the ring survive a leader restart' '
	printf "LIST\r\n" | lsend >list.before &&
	printf "RING\r\n" | send "$L" >ring.before &&
	p0=$(leader_stats | json_num pending) &&
	lput tx-d durable 5 1 "$H5" | lsend >out &&
	echo "OK 0 EPOCH" >expect && test_cmp expect out &&
	stat_is "$L" pending $((p0 + 1)) &&
	restart_leader &&
	test "$LEADER_ADDR" = "$L" &&
	printf "RING\r\n" | send "$L" >ring.after &&
	ring_check <ring.after &&
	# the epoch may move on, never back
	test "$(epoch_of ring.after)" -ge "$EPOCH" &&
	EPOCH=$(epoch_of ring.after) &&
	head -n 1 ring.before | cut -d" " -f3,4 >expect &&
	head -n 1 ring.after | cut -d" " -f3,4 >actual &&
	test_cmp expect actual &&
	ring_norm <ring.before >expect && ring_norm <ring.after >actual &&
	test_cmp expect actual &&
	stat_is "$L" pending $((p0 + 1)) &&
	printf "LIST\r\n" | lsend >list.after &&
	test_cmp list.before list.after &&
	printf "COMMIT tx-d\r\nLOOKUP durable\r\n" | lsend >out &&
	printf "%s\n" "OK 1" "FILE durable 1 5 1 MTIME EPOCH - fixed" "$H5" END >expect &&
	test_cmp expect out &&
	stat_is "$L" pending "$p0"
'

test_expect_success 'a pending mapping expires after --pending-ttl' '
	stop_leader &&
	start_leader --pending-ttl 300ms &&
	EPOCH=$(printf "RING\r\n" | send "$L" | epoch_of) &&
	# anything left pending by an earlier failure expires first
	wait_for "test \"\$(leader_stats | json_num pending)\" = 0" 5 &&
	{ lput tx-t expiring 5 1 "$H1" && printf "STATS\r\n"; } | lsend >out &&
	head -n 1 out >actual && echo "OK 0 EPOCH" >expect && test_cmp expect actual &&
	grep "^{" out | json_num pending >n && echo 1 >expect && test_cmp expect n &&
	wait_for "test \"\$(leader_stats | json_num pending)\" = 0" 5 &&
	printf "COMMIT tx-t\r\nLOOKUP expiring\r\n" | lsend >out &&
	printf "ERROR NOT_FOUND\nERROR NOT_FOUND\n" >expect && test_cmp expect out &&
	printf "LOOKUP durable\r\n" | lsend >out &&
	printf "%s\n" "FILE durable 1 5 1 MTIME EPOCH - fixed" "$H5" END >expect &&
	test_cmp expect out
'

test_expect_success 'a new server gets --tokens tokens, known servers keep theirs' '
	stop_leader &&
	start_leader --tokens 300 &&
	printf "RING\r\n" | send "$L" >before &&
	E=$(head -n 1 before | cut -d" " -f2) &&
	printf "HELLO new-300 127.0.0.1:9\r\nHELLO new-300 127.0.0.1:9\r\n" |
		send "$L" >out &&
	printf "OK %s 0\n" $((E + 1)) $((E + 1)) >expect && test_cmp expect out &&
	printf "RING\r\n" | send "$L" >out &&
	ring_check <out &&
	head -n 1 out >actual && echo "RING $((E + 1)) 2 3 fixed" >expect &&
	test_cmp expect actual &&
	printf "%s %s healthy 128 0\n" "$ID1" "${CHUNK_ADDR[1]}" \
		"$ID2" "${CHUNK_ADDR[2]}" >expect &&
	echo "new-300 127.0.0.1:9 healthy 300 0" >>expect &&
	sort -o expect expect &&
	servers_of <out >actual && test_cmp expect actual &&
	# 300 tokens take three lines: 128, 128 and 44
	awk "\$1 == \"SERVER\" { on = (\$2 == \"new-300\") } on" out |
		tokens_per_line >actual &&
	printf "128\n128\n44\n" >expect && test_cmp expect actual &&
	# the others kept theirs
	ring_norm <before >expect &&
	ring_norm <out | grep -v "^new-300 " >actual &&
	test_cmp expect actual &&
	stat_is "$L" tokens 300 && stat_is "$L" servers 3
'

# hellos FROM TO: HELLO lines for the fake servers fake-FROM..fake-TO.
hellos () {
	local i
	for ((i = $1; i <= $2; i++)); do
		printf "HELLO fake-%s 127.0.0.1:%s\r\n" "$i" $((10000 + i))
	done
}

test_expect_success 'HELLO of a new id when 256 servers are known: BUSY' '
	stop_leader &&
	start_leader --tokens 1 &&
	n=$(printf "RING\r\n" | send "$L" | head -n 1 | cut -d" " -f4) &&
	test "$n" = 3 &&
	hellos 4 256 | send "$L" >out &&
	test "$(grep -c "^OK [0-9]* [0-9]*\$" out)" = 253 &&
	{ hellos 257 257 && printf "HELLO %s %s\r\n" "$ID1" "${CHUNK_ADDR[1]}"
	} | send "$L" >out &&
	printf "RING\r\n" | send "$L" >ring &&
	E=$(epoch_of ring) &&
	printf "ERROR BUSY\nOK %s 0\n" "$E" >expect && test_cmp expect out &&
	ring_check <ring &&
	head -n 1 ring | grep -q " 256 fixed\$" &&
	stat_is "$L" servers 256
'

test_expect_success 'the servers stop cleanly on SIGTERM' '
	stop_cluster
'

test_done
