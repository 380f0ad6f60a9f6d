#!/bin/bash
test_description='compaction: deleted chunks give their space back, and a
kill -9 at any point of a compaction loses nothing'
. "$(dirname "$0")/test-lib.sh"

if ! perl -MDigest::SHA -e 1 2>/dev/null; then
	skip_all='perl with Digest::SHA is needed to check GET_BATCH replies'
	test_done
fi

# 1 MB segments, so that 20 MB make many; nothing compacts until asked;
# repair stays out of the way (its first pass finds nothing to do).
FLAGS="--segment-size 1M --repair-interval 1h"
OFF="$FLAGS --compact-interval off"
ON="$FLAGS --compact-interval 50ms"

# batch VERB: the hashes on stdin as VERB lines of 250, then QUIT.
batch () {
	awk -v verb="$1" 'NF {
		printf "%s%s", (n % 250 ? " " : (n ? "\r\n" verb " " : verb " ")), $1; n++
	} END { if (n) printf "\r\n"; printf "QUIT\r\n" }'
}

# delete_all I FILE: DELETE_BATCH every chunk of FILE on server I as
# round 1000000000 of the leader's garbage collection, above any round
# it numbers here (gfs-protocol(7)); prints how many were deleted.
delete_all () {
	batch "DELETE_BATCH 1000000000" <"$2" |
		gfs-raw -t 10000 "${CHUNK_ADDR[$1]}" | tr -d "\r" |
		awk '$1 == "OK" { n += $2; next } { print >"/dev/stderr" }
			END { print n + 0 }'
}

# served I FILE: chunk server I answers GET_BATCH with every chunk of
# FILE (hashes, one a line), and each block hashes to its name.
served () {
	batch GET_BATCH <"$2" | gfs-raw -t 10000 "${CHUNK_ADDR[$1]}" >got &&
	perl -MDigest::SHA=sha256_hex -e '
		open(my $h, "<", $ARGV[0]) or die "$ARGV[0]: $!\n";
		my %want = map { chomp; ($_ => 1) } <$h>;
		open(my $g, "<:raw", $ARGV[1]) or die "$ARGV[1]: $!\n";
		my $b = do { local $/; <$g> } // "";
		my ($n, $bad) = (0, 0);
		while (length $b) {
			$b =~ s/\A([^\r\n]*)\r\n// or die "not a line: " . substr($b, 0, 80) . "\n";
			my $l = $1;
			next if $l eq "END";
			$l =~ /\AVALUE ([0-9a-f]{64}) (\d+)\z/ or die "bad line: $l\n";
			my ($hash, $len) = ($1, $2);
			my $d = substr($b, 0, $len, "");
			substr($b, 0, 2, "") eq "\r\n" or die "no CRLF after $hash\n";
			if (sha256_hex($d) ne $hash) { $bad++; next; }
			$n++ if delete $want{$hash};
		}
		my $miss = keys %want;
		print STDERR "$n chunks right, $miss missing, $bad damaged\n"
			if $miss || $bad;
		exit($miss || $bad ? 1 : 0);
	' "$2" got
}

# none_held I FILE: chunk server I has none of the chunks of FILE.
none_held () {
	local n
	n=$(batch HAS_BATCH <"$2" | gfs-raw -t 10000 "${CHUNK_ADDR[$1]}" |
		grep -c "^HAVE ")
	test "$n" = 0 || { echo >&2 "chunk server $1 still has $n"; return 1; }
}

# intact I: server I serves every kept chunk right, no deleted one, and
# its repair never had to copy one to the other server (which would
# hide a loss).
intact () {
	served "$1" keep && none_held "$1" gone &&
	stats "$1" && test "$(st repair_copied)" = 0
}

# stats I: fetch server I's STATS into $ST; st KEY: a number of it.
stats () { ST=$(chunk_stats "$1"); }
st () { json_num "$1" <<<"$ST"; }
seg_files () { find "$TRASH/chunk$1" -name 'seg-*.dat' | wc -l; }
seg_bytes () {
	find "$TRASH/chunk$1" -name 'seg-*.dat' -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }'
}

# compacted I: the segment files of server I are within 10% of its live
# records (payload and 48-byte headers), and STATS agrees with them.
compacted () {
	local chunks bytes disk garbage live zeros
	stats "$1" &&
	chunks=$(st chunks) bytes=$(st bytes) disk=$(st disk_bytes) garbage=$(st garbage)
	zeros=$(st zero_bytes)
	live=$((bytes + 48 * chunks))
	test "$((disk - zeros))" -le $((live + live / 10)) &&
	test "$disk" = "$(seg_bytes "$1")" &&
	test "$garbage" = $((disk - zeros - live))
}

# bad_flag "--opt VALUE": gfs-chunkd refuses it with 2 and a message.
bad_flag () {
	# shellcheck disable=SC2086
	test_expect_code 2 gfs-chunkd -n --data d $1 >out 2>err &&
	grep -q "^gfs-chunkd: bad ${1%% *} '" err
}

test_expect_success 'compaction flags: bad values exit 2, off and 0 are fine' '
	bad_flag "--compact-threshold 0" && bad_flag "--compact-threshold 100" &&
	bad_flag "--compact-interval 5x" && bad_flag "--segment-size 1k" &&
	bad_flag "--segment-size 65M" && bad_flag "--segment-size x" &&
	gfs-chunkd -n --data d --compact-interval off --segment-size 64k \
		--compact-threshold 99 >out &&
	gfs-chunkd -n --data d --compact-interval 0 >>out &&
	test "$(grep -c "configuration OK" out)" = 2
'

# 40 files of 512 KB; every fifth is kept, so that some segments hold
# a little of what is kept and more of what is deleted, and others only
# what is deleted.
test_expect_success 'two chunk servers with 1 MB segments; put 40 files of 512 KB' '
	CHUNK_FLAGS=$OFF start_cluster 2 &&
	: >keep && : >gone && : >kept &&
	for i in $(seq 0 39); do
		head -c 524288 /dev/urandom >f$i &&
		gfs put f$i &&
		if test $((i % 5)) = 0; then
			lookup_hashes f$i >>keep && echo f$i >>kept
		else
			lookup_hashes f$i >>gone && rm f$i
		fi || return 1
	done &&
	test "$(sort -u keep gone | wc -l)" = 20480 &&
	for i in 1 2; do
		stats $i && test "$(st chunks)" = 20480 && test "$(st garbage)" = 0 &&
		test "$(seg_files $i)" -ge 20 || return 1
	done
'

test_expect_success 'DELETE_BATCH 80% of the chunks on both: garbage rises' '
	for i in 1 2; do
		test "$(delete_all $i gone)" = 16384 &&
		stats $i && test "$(st chunks)" = 4096 &&
		say "chunk server $i: garbage 0 -> $(st garbage) bytes" &&
		test "$(st garbage)" -gt $((16384 * 1072)) &&
		test "$(st compactions)" = 0 &&
		intact $i || return 1
	done &&
	seg_bytes 1 >disk.before && seg_files 1 >files.before
'

# Server 2 stays down meanwhile: nothing can copy a chunk back into 1.
for point in chunk.compact.after_copy chunk.compact.after_sync \
    chunk.compact.after_unlink chunk.compact.after_sync:9 \
    chunk.compact.after_unlink:3; do
	test_expect_success "kill at $point, restart: nothing lost, nothing back" "
		kill_chunk 2 &&
		kill_chunk 1 &&
		GFS_CRASH=$point start_chunk 1 $ON &&
		wait_for '! kill -0 \${CHUNK_PID[1]} 2>/dev/null' 20 &&
		kill_chunk 1 &&
		start_chunk 1 $OFF &&
		intact 1
	"
done

test_expect_success 'the crashes got on with the work' '
	test "$(seg_files 1)" -lt "$(cat files.before)"
'

test_expect_success 'compaction on both: files within 10% of the live records' '
	kill_chunk 1 &&
	start_chunk 1 $ON &&
	start_chunk 2 $ON &&
	wait_for "compacted 1 && compacted 2" 40 &&
	for i in 1 2; do
		stats $i && say "chunk server $i: $ST" &&
		test "$(st compactions)" -gt 0 &&
		test "$(st compacted_bytes)" -gt 0 &&
		test "$(seg_files $i)" -lt "$(cat files.before)" || return 1
	done &&
	say "chunk server 1: $(cat disk.before) bytes in $(cat files.before)" \
		"files -> $(seg_bytes 1) bytes in $(seg_files 1) files"
'

test_expect_success 'every kept chunk reads right, no deleted one is back' '
	intact 1 && intact 2 &&
	while read -r f; do
		gfs get $f | cmp - $f || return 1
	done <kept
'

test_expect_success 'kill -9 both, restart: the same chunks, the same files' '
	for i in 1 2; do
		kill_chunk $i &&
		seg_bytes $i >disk.$i &&
		start_chunk $i $OFF &&
		stats $i && test "$(st chunks)" = 4096 &&
		test "$(st disk_bytes)" = "$(cat disk.$i)" &&
		compacted $i &&
		intact $i || return 1
	done
'

test_expect_success 'the servers stop cleanly' '
	stop_cluster
'

test_done
