#!/bin/bash
test_description='gfs bench: a short smoke run of every operation, sane numbers'
. "$(dirname "$0")/test-lib.sh"

# each FUNC ARG...: FUNC ARG for each ARG; stops at the first failure.
each () {
	local f=$1 a; shift
	for a; do
		"$f" "$a" || { printf >&2 'failed for %q\n' "$a"; return 1; }
	done
}

empty () { test ! -s "$1" || { echo >&2 "$1 is not empty:"; cat >&2 "$1"; return 1; }; }

# num KEY: the number of "KEY" in out, which holds one JSON object.
num () { json_num "$1" <out; }

# check KEY OP VALUE: awk compares the number of KEY with VALUE.
check () {
	local v
	v=$(num "$1")
	test -n "$v" || { echo >&2 "no \"$1\" in: $(cat out)"; return 1; }
	awk -v v="$v" -v w="$3" "BEGIN { exit !(v $2 w) }" ||
	{ echo >&2 "\"$1\": $v, want $2 $3"; return 1; }
}

# sane OP: out holds exactly one JSON object of a clean run of 50
# operations of 2 clients on 1024-byte files, with sane numbers.
sane () {
	test "$(wc -l <out)" = 1 &&
	grep -qE '^\{.*\}$' out &&
	grep -qF "\"op\":\"$1\"" out &&
	check ops == 50 && check errors == 0 && check clients == 2 &&
	check size == 1024 &&
	check seconds '>' 0 && check ops_per_s '>' 0 &&
	check p50_ms '>' 0 &&
	check p50_ms '<=' "$(num p99_ms)" &&
	check p99_ms '<=' "$(num p999_ms)" &&
	if test "$1" = lookup; then
		check mb_per_s == 0
	else
		check mb_per_s '>' 0
	fi || { cat >&2 out; return 1; }
}

# no_bench_files: nothing left under bench/, not even in the trash.
no_bench_files () {
	gfs ls bench/ >left && empty left &&
	gfs ls --trash bench/ >left && empty left
}

test_expect_success 'start a cluster' 'start_cluster 3'

run_op () {
	test_expect_code 0 timeout 120 gfs bench --op "$1" --files 50 \
	    --clients 2 --json >out 2>err &&
	empty err &&
	sane "$1"
}

test_expect_success 'put, get, lookup and mixed: one JSON object, sane numbers' '
	each run_op put get lookup mixed
'

test_expect_success 'the bench files are gone after the runs' '
	no_bench_files
'

test_expect_success 'put is the default, and the human summary has ops/s' '
	test_expect_code 0 timeout 60 gfs bench --files 20 >out 2>err &&
	empty err &&
	grep -q "^put: 20 operations in [0-9.]* s, 1 client, 1024 bytes each, 0 errors$" out &&
	grep -qE "^  [0-9.]+ ops/s, [0-9.]+ MB/s$" out &&
	grep -qE "^  latency: p50 [0-9.]+ ms, p99 [0-9.]+ ms, p999 [0-9.]+ ms$" out
'

test_expect_success '--size takes a k suffix; more clients than files' '
	test_expect_code 0 timeout 60 gfs bench --op get --size 3k \
	    --files 3 --clients 5 --json >out 2>err &&
	empty err &&
	check size == 3072 && check ops == 3 && check errors == 0 &&
	check mb_per_s ">" 0
'

test_expect_success 'an empty file is benchmarked too' '
	test_expect_code 0 timeout 60 gfs bench --op get --size 0 \
	    --files 4 --json >out 2>err &&
	check ops == 4 && check errors == 0 && check mb_per_s == 0
'

test_expect_success '--duration ends a run before --files' '
	start=$SECONDS &&
	test_expect_code 0 timeout 60 gfs bench --files 10000000 \
	    --duration 500ms --json >out 2>err &&
	test $((SECONDS - start)) -le 15 &&
	check ops ">" 0 && check ops "<" 10000000 && check errors == 0 &&
	check seconds ">=" 0.5 && check seconds "<" 10
'

test_expect_success 'no bench files are left' 'no_bench_files'

test_expect_success '--keep leaves the files under the prefix it prints' '
	test_expect_code 0 timeout 60 gfs bench --files 5 --keep --json \
	    >out 2>err &&
	prefix=$(sed -n "s/.*\"prefix\":\"\([^\"]*\)\".*/\1/p" out) &&
	test -n "$prefix" &&
	gfs ls "$prefix/" >kept &&
	test "$(wc -l <kept)" = 5 &&
	gfs get "$(head -n 1 kept)" | wc -c >size &&
	test "$(cat size)" = 1024 &&
	gfs rm --purge $(cat kept) &&
	no_bench_files
'

# A corpus of real files: nested folders, an empty file, one of several
# chunks; and what is not a regular file, to be left out: a symbolic
# link, a dangling one, a FIFO (which would block a reader).  corpus_n
# and corpus_bytes are what the bench should find.
make_corpus () {
	rm -rf corpus &&
	mkdir -p corpus/a/b corpus/c &&
	printf 'hello\n' >corpus/one.txt &&
	: >corpus/empty &&
	cp "$GFS_ROOT/man/gfs.1" corpus/a/gfs.1 &&
	cp "$GFS_ROOT/README.md" corpus/a/b/README.md &&
	seq 1 2000 >corpus/c/numbers &&
	head -c 3000 /dev/zero | tr "\0" x >corpus/c/x3000 &&
	ln -s ../one.txt corpus/c/link &&
	ln -s nowhere corpus/c/dangling &&
	mkfifo corpus/a/fifo &&
	corpus_n=6 &&
	corpus_bytes=$(cat corpus/one.txt corpus/empty corpus/a/gfs.1 \
	    corpus/a/b/README.md corpus/c/numbers corpus/c/x3000 | wc -c) &&
	test "$corpus_bytes" -gt 3000
}

# corpus_sane OP: out holds one JSON object of a clean run over the
# corpus, each file once, by 2 clients.
corpus_sane () {
	test "$(wc -l <out)" = 1 &&
	grep -qF "\"op\":\"$1\"" out &&
	grep -qF "\"corpus\":\"corpus\"" out &&
	! grep -qF "\"size\":" out &&
	check corpus_files == "$corpus_n" &&
	check corpus_bytes == "$corpus_bytes" &&
	check ops == "$corpus_n" && check errors == 0 &&
	check clients == 2 && check ops_per_s ">" 0 &&
	check p50_ms ">" 0 && check p50_ms "<=" "$(num p999_ms)" &&
	if test "$1" = lookup; then
		check bytes == 0 && check mb_per_s == 0
	else
		check bytes == "$corpus_bytes" && check mb_per_s ">" 0
	fi || { cat >&2 out; return 1; }
}

run_corpus () {
	test_expect_code 0 timeout 120 gfs bench --op "$1" \
	    --size corpus corpus --clients 2 --json >out 2>err &&
	empty err &&
	corpus_sane "$1"
}

test_expect_success '--size corpus DIR: each regular file once, its real bytes' '
	make_corpus &&
	each run_corpus put get lookup
'

# get_all: each name on stdin (at most 100) into back/, as back/1, ...
get_all () {
	local name i=0
	rm -rf back && mkdir back || return 1
	while read -r name && test $i -lt 100; do
		i=$((i + 1))
		gfs get "$name" -o "back/$i" || return 1
	done
}

# cksums: the sorted checksums and sizes of the files named on stdin.
cksums () { xargs -d "\n" cksum | awk "{ print \$1, \$2 }" | sort; }

test_expect_success '--size corpus: the files stored are the corpus files' '
	test_expect_code 0 timeout 60 gfs bench --size corpus corpus \
	    --clients 3 --keep --json >out 2>err &&
	empty err &&
	prefix=$(sed -n "s/.*\"prefix\":\"\([^\"]*\)\".*/\1/p" out) &&
	test -n "$prefix" &&
	gfs ls "$prefix/" >kept &&
	test "$(wc -l <kept)" = "$corpus_n" &&
	get_all <kept &&
	find back -type f | cksums >got &&
	find corpus -type f | cksums >want &&
	test_cmp want got &&
	gfs rm --purge $(cat kept) &&
	no_bench_files
'

test_expect_success '--size corpus with --files: the corpus again, in turn' '
	test_expect_code 0 timeout 60 gfs bench --size corpus corpus \
	    --files 15 --json >out 2>err &&
	empty err &&
	check ops == 15 && check errors == 0 &&
	# 2 rounds, then the first 3 in the order of the walk
	first3=$(cat corpus/a/b/README.md corpus/a/gfs.1 corpus/c/numbers |
	    wc -c) &&
	check bytes == $((corpus_bytes * 2 + first3))
'

test_expect_success '--size corpus: the human summary names the corpus' '
	test_expect_code 0 timeout 60 gfs bench --files 2 --size corpus corpus \
	    >out 2>err &&
	empty err &&
	grep -q "^put: 2 operations in [0-9.]* s, 1 client, the $corpus_n files of '\''corpus'\'' ($corpus_bytes bytes), 0 errors$" out
'

# bad_option ARGS: exit 2, the usage of bench on stderr, nothing on stdout.
bad_option () {
	# shellcheck disable=SC2086
	test_expect_code 2 gfs bench $1 >out 2>err &&
	empty out &&
	grep -q "^usage: gfs bench " err ||
	{ echo >&2 "for: gfs bench $1"; cat >&2 err; return 1; }
}

test_expect_success 'bad options: exit 2 with the usage' '
	each bad_option "--op nope" "--op" "--op PUT" "--files 0" \
	    "--files x" "--files -1" "--files 10000001" "--files 1e3" \
	    "--size x" "--size k" "--size 1x" "--size 2kb" "--size -1" \
	    "--size 1073741825" "--size 1048577k" "--clients 0" \
	    "--clients 257" "--clients two" "--duration 0" "--duration 5x" \
	    "--duration 2h" "--bogus" "extra" "-j" &&
	test_expect_code 2 gfs bench --op nope 2>err &&
	grep -q "^gfs: bad --op '\''nope'\''" err
'

test_expect_success 'bad options are refused before the cluster is asked' '
	test_expect_code 2 gfs --leader 127.0.0.1:1 bench --files 0 2>err
'

# bad_corpus DIR MESSAGE: --size corpus DIR exits 2 with MESSAGE, before
# the (unreachable) leader is asked.
bad_corpus () {
	test_expect_code 2 timeout 10 gfs --leader 127.0.0.1:1 bench \
	    --size corpus "$1" >out 2>err &&
	empty out &&
	grep -qF "$2" err || { cat >&2 err; return 1; }
}

test_expect_success '--size corpus: no DIR, no such DIR, no file in it: exit 2' '
	rm -rf hollow && mkdir -p hollow/a/b &&
	ln -s ../../corpus/one.txt hollow/a/link &&
	mkfifo hollow/fifo &&
	bad_corpus hollow "gfs: bench: no regular file to read under '\''hollow'\''" &&
	bad_corpus nowhere "gfs: bad --size corpus '\''nowhere'\'': No such file or directory" &&
	bad_corpus corpus/one.txt "gfs: bad --size corpus '\''corpus/one.txt'\'': Not a directory" &&
	test_expect_code 2 gfs bench --size corpus >out 2>err &&
	empty out &&
	grep -q "^gfs: bad --size corpus: want a directory after it$" err &&
	grep -q "^usage: gfs bench " err
'

test_expect_success '--size corpus DIR then --size BYTES: the last one counts' '
	test_expect_code 0 timeout 60 gfs bench --size corpus corpus \
	    --size 2k --files 3 --json >out 2>err &&
	check size == 2048 && check bytes == 6144 && ! grep -q corpus out
'

test_expect_success 'an unreachable leader: exit 3 at once' '
	start=$SECONDS &&
	test_expect_code 3 timeout 20 gfs --leader 127.0.0.1:1 bench >out 2>err &&
	test $((SECONDS - start)) -le 3 &&
	empty out &&
	grep -q "^gfs: bench: " err
'

# A bench client keeps its ring from put to put; the leader's
# PUT_PENDING reply names the current epoch, and a client whose ring is
# older puts that file again on the new ring.  Server 4 holds more
# chunks than repair copied to it only if the clients moved to a ring
# with it.
test_expect_success 'a server joins during a run: clients move to the new ring' '
	secs=$((6 * ${GFS_TEST_SLOW:-1})) &&
	gfs bench --files 10000000 --duration ${secs}s --clients 2 --keep \
	    --json >out 2>err &
	bp=$! &&
	wait_for "gfs ls bench/ | grep -q ." &&
	start_chunk 4 &&
	wait_for "test \"\$(ring_servers)\" = 4" &&
	kill -0 $bp &&
	wait $bp &&
	empty err &&
	check errors == 0 && check ops ">" 0 &&
	# repair copies chunks to server 4 too: it must hold more than that
	c4=$(chunk_stats 4 | json_num chunks) &&
	copied=0 &&
	for i in 1 2 3; do
		copied=$((copied + $(chunk_stats $i | json_num repair_copied)))
	done &&
	{ test "$c4" -gt "$copied" ||
	  { echo >&2 "server 4: $c4 chunks, $copied copied by repair"; false; }; } &&
	prefix=$(sed -n "s/.*\"prefix\":\"\([^\"]*\)\".*/\1/p" out) &&
	gfs ls "$prefix/" >kept &&
	test "$(wc -l <kept)" = "$(num ops)" &&
	for name in $(tail -n 30 kept); do
		test "$(gfs get "$name" | wc -c)" = 1024 || return 1
	done &&
	xargs gfs rm --purge <kept &&
	no_bench_files &&
	stop_chunk 4
'

test_expect_success 'failed operations count as errors: exit 3' '
	kill_chunk 2 && kill_chunk 3 &&
	test_expect_code 3 timeout 60 gfs --timeout 2s bench --files 5 \
	    --json >out 2>err &&
	grep -q "^gfs: bench: " err &&
	if test -s out; then check errors ">" 0; fi
'

test_done
