#!/bin/bash
test_description='self-repair and scrub: new servers, lost disks and bit rot heal by themselves'
. "$(dirname "$0")/test-lib.sh"

CHUNK_FLAGS="--repair-interval 200ms --repair-rate 100M --hello-interval 200ms"
LEADER_FLAGS="--health-interval 100ms --remove-after 5"

# put_hashed N PREFIX: put_many, and the chunk hashes in hashes.PREFIX
put_hashed () {
	local i
	put_many "$1" "$2" || return 1
	for ((i = 0; i < $1; i++)); do
		lookup_hashes "$2.$i" || return 1
	done | sort -u >"hashes.$2" &&
	test "$(wc -l <"hashes.$2")" -ge "$1"
}

# copies_are N FILE: every hash in FILE is on exactly N running servers
copies_are () {
	replica_counts <"$2" >counts &&
	awk -v n="$1" '$1 != n { bad++ } END { exit bad > 0 }' counts
}

# has_batch ADDR FILE: "HASH ADDR" for each hash of FILE the server holds
has_batch () {
	awk 'NF { printf "%s%s", (n % 250 ? " " : (n ? "\r\nHAS_BATCH " : "HAS_BATCH ")), $1; n++
	} END { if (n) printf "\r\n"; printf "QUIT\r\n" }' <"$2" |
		gfs-raw -t 5000 "$1" | tr -d '\r' |
		awk -v a="$1" '$1 == "HAVE" { print $2, a }'
}

# holders FILE: "HASH ADDR" for each copy on a running server, sorted
holders () {
	local i
	for i in "${!CHUNK_ADDR[@]}"; do
		test -n "${CHUNK_PID[i]}" || continue
		has_batch "${CHUNK_ADDR[i]}" "$1" || return 1
	done | LC_ALL=C sort
}

# owners FILE: "HASH ADDR" for each owner of each hash, sorted: the
# first <replicas> distinct servers at or after the hash's position
# among the tokens of servers not removed, as in the leader's RING.
owners () {
	printf 'RING\r\nQUIT\r\n' | gfs-raw -t 2000 "$LEADER_ADDR" |
		tr -d '\r' >ring &&
	awk '$1 == "SERVER" { addr = $4 == "removed" ? "" : $3 }
		$1 == "TOKENS" && addr != "" {
			for (i = 2; i <= NF; i++) print $i, addr }' ring |
		LC_ALL=C sort >tokens &&
	rep=$(awk '$1 == "RING" { print $3 }' ring) &&
	test -s tokens && test -n "$rep" &&
	# Hex strings of one width compare as numbers; "x" keeps awk
	# from comparing them as decimal numbers.
	awk -v rep="$rep" '
		FNR == NR { n++; tok[n] = "x" $1; srv[n] = $2; next }
		NF {
			pos = "x" substr($1, 1, 16); lo = 1; hi = n + 1
			while (lo < hi) {
				mid = int((lo + hi) / 2)
				if (tok[mid] < pos) lo = mid + 1; else hi = mid
			}
			got = 0; split("", seen)
			for (k = 0; k < n && got < rep; k++) {
				s = srv[(lo - 1 + k) % n + 1]
				if (!(s in seen)) { seen[s] = 1; got++; print $1, s }
			}
		}' tokens "$1" | LC_ALL=C sort
}

# placed FILE: every chunk sits on exactly its owners, and nowhere else
placed () {
	holders "$1" >holders.actual &&
	owners "$1" >holders.expect &&
	cmp -s holders.expect holders.actual
}

# held I HASH: chunk server I holds the chunk
held () {
	printf 'HAS_BATCH %s\r\nQUIT\r\n' "$2" | gfs-raw "${CHUNK_ADDR[$1]}" |
		grep -q "^HAVE $2"
}

# stat_ge I KEY N: STATS member KEY of chunk server I is at least N
stat_ge () {
	local v
	v=$(chunk_stats "$1" | json_num "$2") && test -n "$v" && test "$v" -ge "$3"
}

# ms: milliseconds on the wall clock, for reporting durations
ms () { echo $(($(date +%s%N) / 1000000)); }

test_expect_success 'gfs-chunkd refuses a bad --repair-rate, takes good ones' '
	for bad in 0 -1 5x 1T 20MB k 18446744073709551615G; do
		test_expect_code 2 gfs-chunkd -n --data d --repair-rate "$bad" \
			>out 2>err &&
		grep -q "^gfs-chunkd: bad --repair-rate " err || return 1
	done &&
	for good in 1 500k 20M 1G; do
		gfs-chunkd -n --data d --repair-rate $good --repair-interval 1s \
			--scrub-interval 1h >out || return 1
	done
'

test_expect_success 'four servers, 500 files: every chunk on its two owners' '
	start_cluster 4 &&
	put_hashed 500 a &&
	check_all a &&
	wait_for "placed hashes.a" 30 &&
	copies_are 2 hashes.a
'

test_expect_success 'every server reports repair passes on the current epoch' '
	epoch=$(leader_stats | json_num epoch) &&
	for i in 1 2 3 4; do
		wait_for "stat_ge $i repair_passes 1 &&
			test \"\$(chunk_stats $i | json_num repair_epoch)\" = $epoch" ||
			return 1
	done &&
	chunk_stats 1 >json &&
	for key in repair_copied repair_dropped repair_active scrub_passes \
	    scrub_bad scrub_fixed corrupt; do
		grep -q "\"$key\":[0-9]" json || return 1
	done
'

test_expect_success 'a fifth server: its chunks move to it and leave the others' '
	start_chunk 5 $CHUNK_FLAGS &&
	wait_for "test \"\$(ring_servers)\" = 5" &&
	t0=$(ms) &&
	wait_for "placed hashes.a && copies_are 2 hashes.a" 60 &&
	say "rebalanced to 5 servers in $(($(ms) - t0)) ms" &&
	n5=$(has_batch "${CHUNK_ADDR[5]}" hashes.a | wc -l) &&
	total=$(wc -l <hashes.a) &&
	say "server 5 holds $n5 of $total chunks" &&
	# About 2/5 of the chunks; well over none, well under all.
	test "$n5" -gt $((total / 10)) && test "$n5" -lt $((total * 7 / 10)) &&
	dropped=0 &&
	for i in 1 2 3 4; do
		dropped=$((dropped + $(chunk_stats $i | json_num repair_dropped))) || return 1
	done &&
	test "$dropped" -gt 0 &&
	check_all a
'

test_expect_success 'lose a disk: the wiped server is filled again' '
	kill_chunk 3 &&
	rm -rf "$TRASH/chunk3" &&
	t0=$(ms) &&
	start_chunk 3 $CHUNK_FLAGS &&
	wait_for "placed hashes.a && copies_are 2 hashes.a" 60 &&
	took=$(($(ms) - t0)) &&
	say "lost disk: $(wc -l <hashes.a) chunks on 2 servers each again in $took ms" &&
	echo "$took" >repair-ms &&
	test "$(has_batch "${CHUNK_ADDR[3]}" hashes.a | wc -l)" -gt 0 &&
	gfs fsck --json >fsck.json &&
	test "$(json_num under_replicated <fsck.json)" = 0 &&
	check_all a
'

test_expect_success 'then lose a different server for good: every file reads' '
	kill_chunk 1 &&
	check_all a
'

test_expect_success 'and the four left make two copies of everything again' '
	wait_for "placed hashes.a && copies_are 2 hashes.a" 60 &&
	check_all a
'

test_expect_success 'bit rot under a running server: the scrub drops it, gets it back' '
	printf "bitrot test payload\n" >rot && gfs put rot &&
	h=$(lookup_hashes rot) &&
	victim= &&
	for i in 2 3 4 5; do
		held $i $h && victim=$i && break
	done &&
	test -n "$victim" &&
	stop_chunk $victim &&
	start_chunk $victim $CHUNK_FLAGS --scrub-interval 300ms &&
	bad0=$(chunk_stats $victim | json_num scrub_bad) &&
	seg=$(grep -l "bitrot test payload" "$TRASH"/chunk$victim/seg-*.dat) &&
	off=$(grep -obUa "bitrot test payload" "$seg" | head -n 1 | cut -d: -f1) &&
	printf "B" | dd of="$seg" bs=1 seek=$off conv=notrunc 2>/dev/null &&
	gfs get rot | cmp - rot &&
	wait_for "stat_ge $victim scrub_bad $((bad0 + 1))" 20 &&
	wait_for "stat_ge $victim scrub_fixed 1 && held $victim $h" 20 &&
	printf "GET_BATCH %s\r\nQUIT\r\n" $h | gfs-raw "${CHUNK_ADDR[victim]}" |
		tr -d "\r" >direct &&
	grep -qx "VALUE $h 20" direct &&
	grep -qx "bitrot test payload" direct &&
	stat_ge $victim corrupt 1 &&
	gfs get rot | cmp - rot &&
	copies_are 2 hashes.a
'

test_expect_success 'bit rot found at start: repair from the other owner brings it back' '
	printf "bitrot while down\n" >rot2 && gfs put rot2 &&
	h=$(lookup_hashes rot2) &&
	victim= &&
	for i in 2 3 4 5; do
		held $i $h && victim=$i && break
	done &&
	test -n "$victim" &&
	stop_chunk $victim &&
	seg=$(grep -l "bitrot while down" "$TRASH"/chunk$victim/seg-*.dat) &&
	off=$(grep -obUa "bitrot while down" "$seg" | head -n 1 | cut -d: -f1) &&
	printf "B" | dd of="$seg" bs=1 seek=$off conv=notrunc 2>/dev/null &&
	start_chunk $victim $CHUNK_FLAGS &&
	stat_ge $victim corrupt 1 &&
	wait_for "held $victim $h" 20 &&
	printf "GET_BATCH %s\r\nQUIT\r\n" $h | gfs-raw "${CHUNK_ADDR[victim]}" |
		tr -d "\r" | grep -qx "bitrot while down" &&
	gfs get rot2 | cmp - rot2
'

test_expect_success 'servers stop cleanly, repair threads and all' '
	stop_cluster
'

test_done
