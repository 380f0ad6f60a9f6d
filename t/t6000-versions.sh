#!/bin/bash
test_description='versions: put again, NAME@N, log, --if-version, prune, --keep-versions'
. "$(dirname "$0")/test-lib.sh"

LEADER_FLAGS="--gc-interval 100ms"

test_expect_success 'start a cluster' '
	start_cluster 3
'

test_expect_success 'three puts make versions 1, 2, 3, each readable' '
	for v in 1 2 3; do
		head -c $((v * 3000)) /dev/urandom >v$v &&
		gfs put -v v$v doc >out &&
		grep -q "^doc version $v, $((v * 3000)) bytes" out || return 1
	done &&
	for v in 1 2 3; do
		gfs get doc@$v >got && cmp got v$v || return 1
	done &&
	gfs get doc >got && cmp got v3
'

test_expect_success 'ls -l shows the latest version' '
	gfs ls -l doc >out &&
	grep -q "^ *9000 *3 .* doc$" out
'

test_expect_success 'log lists versions newest first with size and SHA-256' '
	gfs log doc >log &&
	test "$(wc -l <log)" = 3 &&
	awk "{ print \$1, \$2 }" log >got &&
	printf "3 9000\n2 6000\n1 3000\n" >want &&
	cmp got want &&
	for v in 1 2 3; do
		sha=$(sha256sum <v$v | cut -c1-64) &&
		grep -q "^ *$v .* $sha$" log || return 1
	done
'

test_expect_success 'log of a missing name exits 1, bad usage 2' '
	test_expect_code 1 gfs log nosuch 2>err &&
	grep -q "no such file" err &&
	test_expect_code 2 gfs log 2>err &&
	test_expect_code 2 gfs log a b 2>err
'

test_expect_success 'a version that does not exist is not found' '
	test_expect_code 1 gfs get doc@4 >out 2>err
'

test_expect_success '--if-version: the right version goes in' '
	echo four >v4 &&
	gfs put -v --if-version 3 v4 doc >out &&
	grep -q "version 4" out &&
	gfs get doc >got && cmp got v4
'

test_expect_success '--if-version: a stale version fails with 3, nothing changes' '
	echo five >v5 &&
	test_expect_code 3 gfs put --if-version 3 v5 doc 2>err &&
	grep -q "current version is 4" err &&
	gfs get doc >got && cmp got v4 &&
	test "$(gfs log doc | wc -l)" = 4 &&
	test "$(leader_stats | json_num pending)" = 0
'

test_expect_success '--if-version 0 creates a new name only' '
	gfs put --if-version 0 v5 fresh &&
	test_expect_code 3 gfs put --if-version 0 v5 fresh 2>err &&
	grep -q "current version is 1" err &&
	test_expect_code 2 gfs put --if-version x v5 fresh 2>err
'

test_expect_success 'two writers from the same version: exactly one wins' '
	echo a >wa && echo b >wb &&
	gfs put --if-version 4 wa doc & pa=$!
	gfs put --if-version 4 wb doc & pb=$!
	wait $pa; ra=$?; wait $pb; rb=$?
	test $((ra + rb)) = 3 &&
	test "$(gfs log doc | wc -l)" = 5 &&
	gfs get doc >got && { cmp -s got wa || cmp -s got wb; }
'

test_expect_success 'prune keeps the newest K and frees the rest' '
	before=$(leader_stats | json_num chunks) &&
	gfs prune doc --keep 2 >out &&
	grep -q "3 versions dropped" out &&
	gfs log doc | awk "{ print \$1 }" >got &&
	printf "5\n4\n" >want && cmp got want &&
	test_expect_code 1 gfs get doc@1 >out 2>err &&
	after=$(leader_stats | json_num chunks) &&
	test "$after" -lt "$before" &&
	test_expect_code 2 gfs prune doc 2>err &&
	test_expect_code 2 gfs prune --keep 0 doc 2>err &&
	test_expect_code 1 gfs prune --keep 1 nosuch 2>err
'

test_expect_success 'the chunks of pruned versions leave the chunk servers' '
	# v1..v3 were random: 18 KB of chunks nobody else has, 2 copies
	wait_for "test \"\$(leader_stats | json_num gc_queue)\" = 0" &&
	want=$(( $(leader_stats | json_num chunks) * 2 )) &&
	wait_for "test \"\$(total_chunks)\" = $want"
'

test_expect_success 'a leader restart keeps every version and the counts' '
	restart_leader &&
	printf "5\n4\n" >want &&
	gfs log doc | awk "{ print \$1 }" >got && cmp got want &&
	gfs get doc@4 >got && cmp got v4 &&
	test "$(leader_stats | json_num files)" = 2 &&
	test "$(leader_stats | json_num versions)" = 3
'

test_expect_success '--keep-versions on the leader prunes at every put' '
	stop_leader &&
	start_leader --keep-versions 2 --gc-interval 100ms &&
	for i in 1 2 3 4; do
		echo "edit $i" | gfs put - kv || return 1
	done &&
	gfs log kv | awk "{ print \$1 }" >got &&
	printf "4\n3\n" >want && cmp got want &&
	test "$(leader_stats | json_num keep_versions)" = 2
'

test_expect_success 'servers stop cleanly' '
	stop_cluster
'

test_done
