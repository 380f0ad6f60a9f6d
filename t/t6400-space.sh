#!/bin/bash
test_description='space: purged data leaves the disks (GC, then compaction)'
. "$(dirname "$0")/test-lib.sh"

LEADER_FLAGS="--gc-interval 100ms"
# Small segments, so that 50 MB fills sealed ones compaction may take.
CHUNK_FLAGS="--segment-size 1M --compact-interval 200ms --compact-threshold 25"

# disk: bytes of every running chunk server's segment files, summed
disk () { sum_stat disk_bytes; }

test_expect_success 'an empty cluster' '
	start_cluster 5 &&
	disk >d0
'

test_expect_success '50 MB of distinct files' '
	for i in $(seq 1 50); do
		head -c 1048576 /dev/urandom >f &&
		gfs put f big/$i || return 1
	done &&
	rm -f f &&
	disk >d1 &&
	say "disk: $(cat d0) bytes empty, $(cat d1) with 50 MB in 2 copies" &&
	test "$(cat d1)" -gt $((100 * 1048576))
'

test_expect_success 'purge them all: GC deletes every chunk' '
	for i in $(seq 1 50); do gfs rm --purge big/$i || return 1; done &&
	wait_for "test \"\$(leader_stats | json_num gc_queue)\" = 0" 60 &&
	wait_for "test \"\$(total_chunks)\" = 0" 30 &&
	test "$(leader_stats | json_num chunks)" = 0
'

test_expect_success 'compaction brings the disks back within 10% of the data' '
	d0=$(cat d0) d1=$(cat d1) &&
	wait_for "test \$(disk) -le $((d0 + (d1 - d0) / 10))" 60 &&
	d2=$(disk) &&
	say "disk after purge and compaction: $d2 bytes" \
		"($(( (d2 - d0) * 1000 / (d1 - d0) )) per mille of what the data took)"
'

test_expect_success 'the cluster still works: put, get, fsck' '
	head -c 100000 /dev/urandom >after && gfs put after after &&
	gfs get after | cmp - after &&
	gfs fsck >out
'

test_expect_success 'servers stop cleanly' '
	stop_cluster
'

test_done
