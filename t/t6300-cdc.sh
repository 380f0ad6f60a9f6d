#!/bin/bash
test_description='content-defined chunks: versions of an edited document share chunks'
. "$(dirname "$0")/test-lib.sh"

LEADER_FLAGS="--gc-interval 100ms"
DOC=/usr/share/common-licenses/GPL-3

# edits N: versions v1..vN of DOC, each the one before with a line
# inserted in its middle half (the place moves with each version)
edits () {
	local i
	cp "$DOC" v0 &&
	for ((i = 1; i <= $1; i++)); do
		awk -v n="$(wc -l <v$((i - 1)))" -v i="$i" '
			BEGIN { at = int(n / 4 + (n / 2) * ((i * 37) % 100) / 100) }
			{ print }
			NR == at { print "Edit number " i ": a new line of text." }
		' v$((i - 1)) >v$i || return 1
	done
}

# unique: the leader's count of distinct chunks
unique () { leader_stats | json_num chunks; }

test_expect_success 'twenty edited versions of a real document' '
	test -r "$DOC" &&
	edits 20 &&
	test "$(wc -l <v20)" = $(( $(wc -l <v0) + 20 ))
'

test_expect_success 'fixed chunks (the default): an edit changes most chunks after it' '
	start_cluster 3 &&
	for i in $(seq 1 20); do gfs put v$i fixed || return 1; done &&
	u=$(unique) && echo "$u" >u.fixed &&
	say "fixed: $u unique chunks for 20 versions" &&
	printf "LOOKUP fixed\r\nQUIT\r\n" | gfs-raw "$LEADER_ADDR" |
		grep -q "^FILE fixed 20 .* fixed.$"
'

test_expect_success 'the leader switches to cdc; clients follow' '
	stop_leader && start_leader --gc-interval 100ms --chunking cdc &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	test "$(leader_stats | sed -n "s/.*\"chunking\":\"\([a-z]*\)\".*/\1/p")" = cdc &&
	for i in $(seq 1 20); do gfs put v$i cdc || return 1; done &&
	printf "LOOKUP cdc\r\nQUIT\r\n" | gfs-raw "$LEADER_ADDR" |
		grep -q "^FILE cdc 20 .* cdc.$"
'

test_expect_success 'every version of both reads back byte-identical' '
	for i in $(seq 1 20); do
		gfs get fixed@$i | cmp - v$i &&
		gfs get cdc@$i | cmp - v$i || return 1
	done
'

test_expect_success 'cdc stores far fewer chunks for the same edits' '
	u=$(( $(unique) - $(cat u.fixed) )) &&
	say "cdc: $u more unique chunks for the same 20 versions" &&
	test "$u" -gt 0 &&
	test $((u * 3)) -lt "$(cat u.fixed)"
'

test_expect_success 'cdc chunks are not all 1 KB: sizes vary within bounds' '
	printf "LOOKUP cdc\r\nQUIT\r\n" | gfs-raw "$LEADER_ADDR" | tr -d "\r" |
		grep -E "^[0-9a-f]{64}$" >h &&
	n=$(wc -l <h) && size=$(wc -c <v20) &&
	say "cdc: $n chunks for $size bytes" &&
	test "$n" -ne $(( (size + 1023) / 1024 ))
'

test_expect_success 'losing a chunk server: cdc files still read' '
	kill_chunk 1 &&
	for i in 1 10 20; do gfs get cdc@$i | cmp - v$i || return 1; done
'

test_expect_success 'purging the cdc file frees only its own chunks' '
	start_chunk 1 &&
	wait_for "test \"\$(ring_servers)\" = 3" &&
	gfs rm --purge cdc &&
	wait_for "test \"\$(leader_stats | json_num gc_queue)\" = 0" &&
	test "$(unique)" = "$(cat u.fixed)" &&
	for i in 1 20; do gfs get fixed@$i | cmp - v$i || return 1; done
'

test_expect_success 'servers stop cleanly' '
	stop_cluster
'

test_done
