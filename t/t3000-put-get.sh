#!/bin/bash
test_description='put and get round trips, replica placement'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'start a cluster of five' '
	start_cluster 5
'

# Sizes around the chunk boundary, and a large file.
for size in 0 1 1023 1024 1025 2048 3000 1048576; do
	test_expect_success "round trip of $size bytes" "
		head -c $size /dev/urandom >f$size &&
		gfs put f$size &&
		gfs get f$size >out$size &&
		cmp f$size out$size &&
		test \$(wc -c <out$size) = $size
	"
done

test_expect_success 'a 100 MB file round-trips byte-identical' '
	head -c 104857600 /dev/urandom >big &&
	gfs put big &&
	gfs get big -o big.out &&
	cmp big big.out &&
	rm -f big big.out
'

test_expect_success 'names with spaces and UTF-8' '
	echo "hello world" >plain &&
	gfs put plain "notes/meeting notes 2026.txt" &&
	gfs put plain "docs/ünïcødé/日本語.md" &&
	gfs put plain "a@b%c d" &&
	gfs get "notes/meeting notes 2026.txt" | cmp - plain &&
	gfs get "docs/ünïcødé/日本語.md" | cmp - plain &&
	gfs get "a@b%c d" | cmp - plain &&
	gfs ls notes/ >list &&
	echo "notes/meeting notes 2026.txt" >expect &&
	test_cmp expect list
'

test_expect_success 'put from stdin' '
	seq 1 5000 | gfs put - numbers.txt &&
	seq 1 5000 >expect &&
	gfs get numbers.txt | cmp - expect
'

test_expect_success 'a second put makes version 2; version 1 stays readable' '
	echo one >v && gfs put v ver &&
	echo two >v && gfs put -v v ver >out &&
	grep "version 2" out &&
	gfs get ver | grep -x two &&
	gfs get ver@1 | grep -x one &&
	gfs get ver@2 | grep -x two &&
	test_expect_code 1 gfs get ver@3
'

test_expect_success 'each chunk is on exactly 2 servers' '
	head -c 300000 /dev/urandom >r && gfs put r r &&
	lookup_hashes r >hashes &&
	test $(wc -l <hashes) = 293 &&
	replica_counts <hashes >counts &&
	awk "\$1 != 2 { bad++ } END { exit bad }" counts
'

test_expect_success 'chunks are spread over every server' '
	for i in 1 2 3 4 5; do
		n=$(chunk_stats $i | json_num chunks) &&
		test "$n" -gt 0 || return 1
	done
'

test_expect_success 'chunk servers report chunks and bytes' '
	total=0 && bytes=0 &&
	for i in 1 2 3 4 5; do
		total=$((total + $(chunk_stats $i | json_num chunks))) &&
		bytes=$((bytes + $(chunk_stats $i | json_num bytes))) || return 1
	done &&
	test $total -gt 0 && test $bytes -gt 0 &&
	test $bytes -le $((total * 1024))
'

test_expect_success 'identical chunks are stored once per replica' '
	# Counts move while a GC round of an aborted attempt runs.
	wait_for "test \"\$(leader_stats | json_num gc_queue)\" = 0" 60 &&
	before=$(for i in 1 2 3 4 5; do chunk_stats $i | json_num chunks; done |
		awk "{ s += \$1 } END { print s }") &&
	head -c 50000 /dev/zero >zeros && gfs put zeros z1 && gfs put zeros z2 &&
	after=$(for i in 1 2 3 4 5; do chunk_stats $i | json_num chunks; done |
		awk "{ s += \$1 } END { print s }") &&
	# 48 full zero chunks share one hash, plus the 848-byte tail
	test $((after - before)) = 4
'

test_expect_success 'replicas 3 puts each chunk on 3 servers' '
	stop_cluster &&
	rm -rf "$TRASH/leader" "$TRASH"/chunk* &&
	LEADER_ADDR= && CHUNK_ADDR=() &&
	LEADER_FLAGS="--replicas 3" start_cluster 4 &&
	head -c 20000 /dev/urandom >r3 && gfs put r3 &&
	gfs get r3 | cmp - r3 &&
	lookup_hashes r3 | replica_counts >counts &&
	awk "\$1 != 3 { bad++ } END { exit bad }" counts
'

test_expect_success 'rm removes a file' '
	gfs rm r3 &&
	test_expect_code 1 gfs get r3 &&
	test_expect_code 1 gfs rm r3
'

test_expect_success 'servers stop cleanly on SIGTERM' '
	stop_cluster
'

test_done
