#!/bin/bash
test_description='gfs fsck: healthy, under-replicated, misplaced, unreadable'
. "$(dirname "$0")/test-lib.sh"

# versions [PREFIX]: every committed version, "NAME@V" one a line (names
# here have no spaces, so ls -l splits cleanly).
versions () {
	local v name i
	gfs ls -l "$@" | while read -r _ v _ _ name; do
		for ((i = 1; i <= v; i++)); do echo "$name@$i"; done
	done
}

# snapshot [PREFIX]: "NAME@V HASH" for every chunk of every version in
# file map (a version without chunks has a line "NAME@V"), from one
# pipelined LOOKUP session with the leader.
snapshot () {
	versions "$@" | awk '{ printf "LOOKUP %s\r\n", $1 } END { printf "QUIT\r\n" }' |
		gfs-raw -t 5000 "$LEADER_ADDR" | tr -d '\r' | awk '
		$1 == "FILE" { nv = $2 "@" $3; if ($5 == 0) print nv }
		NF == 1 && length($1) == 64 && $1 ~ /^[0-9a-f]+$/ { print nv, $1 }' >map
}

# distinct_chunks [PREFIX]: how many distinct chunks those versions have.
distinct_chunks () {
	snapshot "$@" && awk 'NF == 2 { print $2 }' map | sort -u | wc -l
}

# short_versions: the versions with a chunk that fewer than 2 running
# servers hold, by the servers' own HAS_BATCH, "under-replicated NAME@V".
short_versions () {
	snapshot &&
	awk 'NF == 2 { print $2 }' map | sort -u | replica_counts |
		awk '$1 < 2 { print $2 }' >short &&
	awk 'NR == FNR { short[$1] = 1; next }
		NF == 2 && short[$2] { print "under-replicated " $1 }' short map |
		LC_ALL=C sort -u
}

# has_batch I HASH: the server I holds HASH.
has_batch () {
	printf 'HAS_BATCH %s\r\nQUIT\r\n' "$2" | gfs-raw -t 5000 "${CHUNK_ADDR[$1]}" |
		tr -d '\r' | grep -qx "HAVE $2"
}

# holders HASH: the servers (numbers) that hold HASH.
holders () {
	local i
	for i in "${!CHUNK_ADDR[@]}"; do
		has_batch "$i" "$1" && echo "$i"
	done
	return 0
}

# delete_on I HASH: DELETE_BATCH HASH on server I; it must have had it.
# The round number is one past the leader's last, so that the server
# takes it whatever rounds the leader's GC ran before.
delete_on () {
	local seq
	seq=$(leader_stats | json_num gc_seq) && test -n "$seq" &&
	printf 'DELETE_BATCH %s %s\r\nQUIT\r\n' $((seq + 1)) "$2" |
		gfs-raw -t 5000 "${CHUNK_ADDR[$1]}" |
		tr -d '\r' >del.out &&
	grep -qx "OK 1" del.out || { cat >&2 del.out; return 1; }
}

# put_on I FILE: store FILE (one chunk) on server I by hand, committed.
put_on () {
	local hash len
	hash=$(sha256sum <"$2" | cut -c1-64) && len=$(wc -c <"$2") &&
	{
		printf 'PUT_PENDING fsck-by-hand-%s %s %d\r\n' "$1" "$hash" "$len"
		cat "$2"
		printf '\r\nCOMMIT fsck-by-hand-%s\r\nQUIT\r\n' "$1"
	} | gfs-raw -t 5000 "${CHUNK_ADDR[$1]}" | tr -d '\r' >put.out &&
	grep -qx STORED put.out && grep -qx "OK 1" put.out ||
		{ cat >&2 put.out; return 1; }
}

# summary OUT: the last line of fsck's output in OUT is the summary for
# NV versions, NC chunks, and the class counts H U M R.
summary () {
	local want="fsck: $2 files, $3 chunks: $4 healthy, $5 under-replicated, $6 misplaced, $7 unreadable"
	test "$(tail -n 1 "$1")" = "$want" ||
		{ echo >&2 "want: $want"; echo >&2 "got:  $(tail -n 1 "$1")"; return 1; }
}

# repair_settled: every running chunk server has finished its first
# repair pass, and one on the leader's current ring epoch, so none is due again for its
# --repair-interval (1 h in this script) and chunks moved by hand stay where
# they are meanwhile.  Servers without repair (no repair_epoch in
# STATS) count as settled.
repair_settled () {
	local epoch i st re
	epoch=$(printf 'RING\r\nQUIT\r\n' | gfs-raw -t 2000 "$LEADER_ADDR" |
		tr -d '\r' | awk '$1 == "RING" { print $2 }') &&
	test -n "$epoch" || return 1
	for i in "${!CHUNK_PID[@]}"; do
		test -n "${CHUNK_PID[i]}" || continue
		st=$(chunk_stats "$i") && test -n "$st" || return 1
		re=$(json_num repair_epoch <<<"$st")
		test -z "$re" && continue
		test "$re" = "$epoch" &&
		test "$(json_num repair_passes <<<"$st")" -ge 1 &&
		test "$(json_num repair_active <<<"$st")" = 0 || return 1
	done
}

# repair_count: repair passes finished or running on all running servers,
# to tell a failure from a repair pass that ran in the middle of a test.
repair_count () {
	local i st n=0
	for i in "${!CHUNK_PID[@]}"; do
		test -n "${CHUNK_PID[i]}" || continue
		st=$(chunk_stats "$i")
		n=$((n + $(json_num repair_passes <<<"$st") + 0 +
		    $(json_num repair_active <<<"$st") + 0))
	done
	echo "$n"
}

json_has_keys () {
	local k
	for k in files chunks healthy under_replicated misplaced unreadable \
	    chunks_healthy chunks_under_replicated chunks_misplaced \
	    chunks_unreadable servers_unreachable problems; do
		grep -q "\"$k\":" "$1" || { echo >&2 "no key $k"; return 1; }
	done
}

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 gfs fsck a b 2>err &&
	grep -q "^usage: gfs fsck " err &&
	test_expect_code 2 gfs fsck --bogus 2>err &&
	grep -q "^usage: gfs fsck " err
'

test_expect_success 'no leader: exit 3' '
	test_expect_code 3 gfs --leader 127.0.0.1:1 fsck >out 2>err &&
	grep -q "^gfs: cannot read the ring: " err
'

test_expect_success 'start a cluster and put files, some in two versions' '
	LEADER_FLAGS="--health-interval 1h" \
	CHUNK_FLAGS="--repair-interval 1h" start_cluster 5 &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		head -c $((i * 1100 + 7)) /dev/urandom >f$i &&
		gfs put f$i docs/f$i || return 1
	done &&
	for i in 1 2 3; do
		head -c $((i * 2000)) /dev/urandom >g$i &&
		gfs put g$i docs/f$i || return 1
	done &&
	: >empty && gfs put empty docs/empty &&
	head -c 3000 /dev/urandom >x && gfs put x other/x &&
	test "$(versions | wc -l)" = 17
'

test_expect_success 'clean cluster: exit 0, summary counts right' '
	nv=$(versions | wc -l) && nc=$(distinct_chunks) &&
	test "$nc" -gt 50 &&
	test_expect_code 0 gfs fsck >out 2>err &&
	test ! -s err &&
	test "$(wc -l <out)" = 1 &&
	summary out "$nv" "$nc" "$nv" 0 0 0
'

test_expect_success '-v lists the healthy versions too' '
	test_expect_code 0 gfs fsck -v >out 2>err &&
	versions | sed "s/^/healthy /" | LC_ALL=C sort >expect &&
	sed "\$d; s/ (.*//" out | LC_ALL=C sort >got &&
	test_cmp expect got &&
	grep -qx "healthy docs/empty@1 (0 of 0 chunks healthy)" out &&
	grep -qx "healthy other/x@1 (3 of 3 chunks healthy)" out
'

test_expect_success 'PREFIX limits the walk' '
	test_expect_code 0 gfs fsck -v other/ >out &&
	summary out 1 3 1 0 0 0 &&
	grep -qx "healthy other/x@1 (3 of 3 chunks healthy)" out
'

test_expect_success '--json: one object with every key' '
	nv=$(versions | wc -l) && nc=$(distinct_chunks) &&
	test_expect_code 0 gfs fsck --json >out 2>err &&
	test ! -s err &&
	test "$(wc -l <out)" = 1 &&
	json_has_keys out &&
	test "$(json_num files <out)" = "$nv" &&
	test "$(json_num chunks_healthy <out)" = "$nc" &&
	if command -v jq >/dev/null; then
		test "$(jq -c "[.files, .chunks, .healthy, .under_replicated,
		    .misplaced, .unreadable, .chunks_under_replicated,
		    .chunks_misplaced, .chunks_unreadable,
		    .servers_unreachable, (.problems | length)]" out)" = \
		    "[$nv,$nc,$nv,0,0,0,0,0,0,0,0]"
	fi
'

test_expect_success 'a copy on a non-owner, one owner without: misplaced, exit 3' '
	head -c 700 /dev/urandom >m && gfs put m moved/m &&
	wait_for repair_settled 30 &&
	passes=$(repair_count) &&
	test_expect_code 0 gfs fsck moved/ >out &&
	h=$(lookup_hashes moved/m@1) &&
	holders "$h" >owners &&
	test "$(wc -l <owners)" = 2 &&
	other=$(printf "%s\n" 1 2 3 4 5 | grep -vxF -f owners | head -n 1) &&
	put_on "$other" m &&
	delete_on "$(head -n 1 owners)" "$h" &&
	test "$(holders "$h" | wc -l)" = 2 &&
	test_expect_code 3 gfs fsck >out 2>err &&
	test ! -s err &&
	grep -qx "misplaced moved/m@1 (1 of 1 chunks misplaced)" out &&
	test "$(wc -l <out)" = 2 &&
	summary out 18 "$(distinct_chunks)" 17 0 1 0 &&
	test_expect_code 3 gfs fsck --json >out &&
	test "$(json_num chunks_misplaced <out)" = 1 &&
	test "$(json_num misplaced <out)" = 1 ||
	{ test "$(repair_count)" = "$passes" ||
		echo >&2 "a repair pass ran in the middle of this test"; false; }
'

test_expect_success 'the copy back on its owner: healthy again' '
	put_on "$(head -n 1 owners)" m &&
	test_expect_code 0 gfs fsck >out &&
	summary out 18 "$(distinct_chunks)" 18 0 0 0 &&
	delete_on "$other" "$h" &&
	holders "$h" >now &&
	test_cmp owners now &&
	test_expect_code 0 gfs fsck moved/ >out
'

test_expect_success 'a chunk deleted from all its holders: unreadable, exit 3' '
	head -c 2500 /dev/urandom >u && gfs put u lost/u &&
	h=$(lookup_hashes lost/u@1 | sed -n 2p) &&
	holders "$h" >held &&
	test "$(wc -l <held)" = 2 &&
	while read -r i; do delete_on "$i" "$h" || return 1; done <held &&
	test -z "$(holders "$h")" &&
	test_expect_code 3 gfs fsck >out 2>err &&
	test ! -s err &&
	grep -qx "unreadable lost/u@1 (1 of 3 chunks unreadable)" out &&
	test "$(wc -l <out)" = 2 &&
	summary out 19 "$(distinct_chunks)" 18 0 0 1 &&
	test_expect_code 3 gfs fsck --json lost/ >out &&
	test "$(json_num chunks_unreadable <out)" = 1 &&
	grep -q "\"class\":\"unreadable\"" out &&
	test_expect_code 0 gfs fsck other/ >out
'

test_expect_success 'removed from the names, its chunks no longer count' '
	gfs rm lost/u &&
	test_expect_code 0 gfs fsck >out &&
	summary out 18 "$(distinct_chunks)" 18 0 0 0
'

test_expect_success 'kill -9 a chunk server: under-replicated, exit 3' '
	kill_chunk 3 &&
	short_versions >expect &&
	test -s expect &&
	nv=$(versions | wc -l) && nc=$(distinct_chunks) && nu=$(wc -l <expect) &&
	test_expect_code 3 gfs fsck >out 2>err &&
	grep -q "^gfs: chunk server ${CHUNK_ADDR[3]}: " err &&
	test "$(wc -l <err)" = 1 &&
	sed "\$d; s/ (.*//" out | LC_ALL=C sort >got &&
	test_cmp expect got &&
	summary out "$nv" "$nc" $((nv - nu)) "$nu" 0 0 &&
	test_expect_code 3 gfs fsck --json >out 2>err &&
	test "$(json_num servers_unreachable <out)" = 1 &&
	test "$(json_num under_replicated <out)" = "$nu" &&
	if command -v jq >/dev/null; then
		jq -r ".problems[] | \"\(.class) \(.name)@\(.version)\"" out |
			LC_ALL=C sort >got &&
		test_cmp expect got
	fi
'

test_expect_success 'restart it: exit 0 again' '
	start_chunk 3 --repair-interval 1h &&
	test_expect_code 0 gfs fsck >out 2>err &&
	test ! -s err &&
	nv=$(versions | wc -l) &&
	summary out "$nv" "$(distinct_chunks)" "$nv" 0 0 0 &&
	stop_cluster
'

test_done
