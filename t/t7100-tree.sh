#!/bin/bash
test_description='put -r and get -r: whole trees, all or nothing'
. "$(dirname "$0")/test-lib.sh"

# mktree DIR N SEED: N files of 0 to 6 KB in folders up to 6 deep, some
# empty, some with UTF-8 and spaces in their names, and one of 3 MB;
# slices of one pool of random bytes, so that it takes no time.
mktree () {
	head -c 8388608 /dev/urandom >"pool.$3" &&
	perl -MFile::Path=make_path -e '
		my ($dir, $n, $seed) = @ARGV;
		local $/;
		open(my $p, "<", "pool.$seed") or die;
		my $pool = <$p>;
		close($p);
		for my $i (0 .. $n - 1) {
			my $d = $dir;
			$d .= "/d" . ($i % ($_ + 2)) for 0 .. $i % 6;
			my $name = $i % 10 == 3 ? "fïlé $i.txt" : "f$i";
			make_path($d) unless -d $d;
			open(my $f, ">", "$d/$name") or die "$d/$name: $!";
			my $size = $i % 17 == 0 ? 0 : ($i * 7919) % 6000;
			print $f substr($pool, ($i * 4099) % 4194304, $size);
			close($f) or die;
		}
		open(my $f, ">", "$dir/big") or die;
		print $f substr($pool, 4194304, 3 << 20);
		close($f) or die;
	' "$@"
}

test_expect_success 'start a cluster of five' '
	LEADER_FLAGS="--pending-ttl 3s --gc-interval 500ms" \
	CHUNK_FLAGS="--pending-ttl 3s" start_cluster 5
'

test_expect_success 'a tree of 1,000 files, empty ones, deep folders, UTF-8' '
	mktree src 1000 1 &&
	mkdir -p "src/ünï/cödé" &&
	: >"src/ünï/cödé/日本語.md" &&
	find src -type f >files &&
	test "$(wc -l <files)" = 1002
'

test_expect_success 'put -r: every file, named PREFIX/path, silent' '
	gfs put -r src docs >out 2>err &&
	test_must_be_empty out && test_must_be_empty err &&
	gfs ls docs/ >names &&
	test "$(wc -l <names)" = 1002 &&
	gfs get "docs/ünï/cödé/日本語.md" >one && test_must_be_empty one &&
	gfs get docs/big | cmp - src/big
'

test_expect_success 'get -r: the tree back, byte-identical' '
	gfs get -r docs copy >out 2>err &&
	test_must_be_empty out && test_must_be_empty err &&
	diff -r src copy
'

test_expect_success 'the default PREFIX is the directory name; -j 1 and -j 8' '
	gfs put -r -j 1 src/ &&
	test "$(gfs ls src/ | wc -l)" = 1002 &&
	gfs get -r -j 8 src copy8 &&
	diff -r src copy8 &&
	gfs put -r -j 8 src j8 &&
	gfs get -r -j 1 j8/ copy1 &&
	diff -r src copy1
'

test_expect_success 'put -r again: each file gets its next version' '
	echo changed >src/d0/f0 &&
	gfs put -r -q src docs &&
	gfs log docs/d0/f0 >log &&
	test "$(grep -c "^ *[0-9]" log)" = 2 &&
	gfs get docs/d0/f0@1 >v1 && test_must_be_empty v1 &&
	gfs get docs/d0/f0 | cmp - src/d0/f0
'

test_expect_success 'a bad name anywhere refuses the whole tree (2)' '
	mkdir -p bad/sub &&
	echo x >bad/a &&
	echo y >"bad/sub/line
break" &&
	test_expect_code 2 gfs put -r bad bad 2>err &&
	grep "control character" err &&
	test "$(gfs ls bad/ | wc -l)" = 0
'

test_expect_success 'usage and not-found errors' '
	test_expect_code 3 gfs put -r no-such-dir x &&
	test_expect_code 2 gfs put -r src/d0/f0 x &&
	test_expect_code 2 gfs put -r --if-version 0 src x &&
	test_expect_code 2 gfs put -r -j 0 src x &&
	test_expect_code 2 gfs get -r docs out -o x &&
	test_expect_code 2 gfs get -r docs &&
	test_expect_code 1 gfs get -r nothing/here out 2>err &&
	grep "no files under" err
'

# All or nothing: a worker that dies after some of its batches went
# out, the parent dying just before the commit, and a kill -9 of the
# whole put -r midway each leave nothing visible, and what the put left
# pending expires and is collected.
test_expect_success 'a worker dies midway: exit 3, nothing visible' '
	chunks_before=$(leader_stats | json_num chunks) &&
	mktree half 3000 2 &&
	test_expect_code 3 env GFS_CRASH=client.putr.after_batch \
		gfs put -r -j 2 half half 2>err &&
	grep "nothing of it is visible" err &&
	test "$(gfs ls half/ | wc -l)" = 0
'

test_expect_success 'put -r dies just before its commit: nothing visible' '
	test_expect_code 99 env GFS_CRASH=client.putr.before_commit \
		gfs put -r half half &&
	test "$(gfs ls half/ | wc -l)" = 0 &&
	test "$(leader_stats | json_num pending)" -gt 0
'

test_expect_success 'kill -9 of put -r midway: nothing visible, all collected' '
	GFS_CRASH=client.putr.after_batch GFS_CRASH_STOP=1 \
		gfs put -r -j 2 half half & putpid=$! &&
	wait_for "ps -o stat= --ppid $putpid | grep -q T" &&
	kids=$(ps -o pid= --ppid $putpid) &&
	kill -9 $putpid $kids &&
	wait $putpid; test "$(gfs ls half/ | wc -l)" = 0 &&
	wait_for "test \"\$(leader_stats | json_num pending)\" = 0" 20 &&
	wait_for "test \"\$(leader_stats | json_num gc_queue)\" = 0" 20 &&
	test "$(gfs ls half/ | wc -l)" = 0 &&
	test "$(leader_stats | json_num chunks)" = "$chunks_before" &&
	wait_for "test \"\$(total_chunks)\" = $((2 * chunks_before))" 20 &&
	gfs get -r docs again &&
	diff -r src again
'

test_expect_success 'get -r: a chunk server killed midway, it completes' '
	GFS_CRASH=client.getr.after_window GFS_CRASH_STOP=1 \
		gfs get -r -j 1 docs midway & getpid=$! &&
	wait_for "ps -o stat= --ppid $getpid | grep -q T" &&
	kill_chunk 2 &&
	kill -CONT $(ps -o pid= --ppid $getpid) &&
	wait $getpid &&
	diff -r src midway
'

test_expect_success 'put -r: a chunk server dies in a COMMIT, the batch goes again' '
	kill_chunk 3 &&
	GFS_CRASH=chunk.commit.after_append start_chunk 3 --pending-ttl 3s &&
	gfs put -r -j 2 src retried &&
	wait_for "! kill -0 \${CHUNK_PID[3]} 2>/dev/null" &&
	gfs get -r retried back &&
	diff -r src back
'

test_expect_success 'a progress line on a terminal, none with -q' '
	script -qec "gfs put -r src tty" /dev/null >tty.out &&
	grep -a "1002/1002 files" tty.out &&
	script -qec "gfs put -r -q src tty" /dev/null >tty.out &&
	! grep -a "files" tty.out
'

test_done
