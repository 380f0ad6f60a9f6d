#!/bin/bash
test_description='gfs command line: options, usage, exit status, messages'
. "$(dirname "$0")/test-lib.sh"

# stderr_has STRING: the last command's stderr (in err) contains STRING.
stderr_has () {
	grep -qF -- "$1" err && return 0
	echo >&2 "stderr lacks '$1':"; cat >&2 err; return 1
}

# quiet: no output at all (in out).
empty () { test ! -s "$1" || { echo >&2 "$1 is not empty:"; cat >&2 "$1"; return 1; }; }

# each FUNC ARG...: FUNC ARG for each ARG; stops at the first failure.
# Test bodies run under eval inside test_expect_success, where a `return`
# would skip the test's report, so loops that can fail live in helpers.
each () {
	local f=$1 a; shift
	for a; do
		"$f" "$a" || { printf >&2 'failed for %q\n' "$a"; return 1; }
	done
}

# The address of something that is not listening.
NOWHERE=127.0.0.1:1

# ---------------------------------------------------------------------------
# Global options and usage, no cluster needed.

test_expect_success '--version prints the version and exits 0' '
	test_expect_code 0 gfs --version >out 2>err &&
	grep -qE "^gfs version [0-9]+\.[0-9]+\.[0-9]+$" out &&
	test "$(wc -l <out)" = 1 &&
	empty err
'

test_expect_success '--version fails when stdout cannot be written' '
	test_expect_code 3 gfs --version >/dev/full 2>err &&
	stderr_has "gfs: "
'

test_expect_success 'no arguments: exit 2, usage on stderr only' '
	test_expect_code 2 gfs >out 2>err &&
	empty out &&
	grep -q "^usage: gfs " err
'

lists_command () { grep -qE "^ +$1( |\$)" out; }

test_expect_success 'gfs help lists every command on stdout, exit 0' '
	test_expect_code 0 gfs help >out 2>err &&
	empty err &&
	grep -q "^usage: gfs " out &&
	each lists_command put get rm ls status help
'

test_expect_success 'gfs --help is gfs help' '
	gfs help >expect &&
	test_expect_code 0 gfs --help >out 2>err &&
	test_cmp expect out && empty err
'

test_expect_success 'gfs help put: exit 0, its usage on stdout' '
	test_expect_code 0 gfs help put >out 2>err &&
	empty err &&
	grep -q "^usage: gfs put " out
'

test_expect_success 'gfs CMD ... --help is gfs help CMD, even with other arguments' '
	gfs help put >expect &&
	test_expect_code 0 gfs put --help >out 2>err &&
	test_cmp expect out && empty err &&
	test_expect_code 0 gfs --leader 127.0.0.1:1 put -r x --help >out 2>err &&
	test_cmp expect out && empty err &&
	gfs help bench >expect &&
	test_expect_code 0 gfs bench --op get --help >out 2>err &&
	test_cmp expect out && empty err
'

test_expect_success 'after --, --help is a name: gfs get -- --help looks it up' '
	test_expect_code 3 gfs --leader 127.0.0.1:1 get -- --help >out 2>err &&
	empty out && stderr_has "cannot look up"
'

test_expect_success 'gfs help nosuch: exit 2' '
	test_expect_code 2 gfs help nosuch >out 2>err &&
	empty out &&
	stderr_has "gfs: '\''nosuch'\'' is not a gfs command"
'

test_expect_success 'gfs nosuch: exit 2' '
	test_expect_code 2 gfs nosuch >out 2>err &&
	empty out &&
	stderr_has "gfs: '\''nosuch'\'' is not a gfs command"
'

test_expect_success 'unknown global option: exit 2, usage' '
	test_expect_code 2 gfs --bogus ls >out 2>err &&
	empty out &&
	stderr_has "gfs: unknown option '\''--bogus'\''" &&
	grep -q "^usage: gfs " err &&
	test_expect_code 2 gfs -x ls >out 2>err &&
	stderr_has "gfs: unknown option '\''-x'\''"
'

test_expect_success '--leader without a value: exit 2' '
	test_expect_code 2 gfs --leader 2>err &&
	grep -q "^usage: gfs " err
'

bad_leader () {
	test_expect_code 2 gfs --leader "$1" ls >out 2>err &&
	empty out &&
	stderr_has "gfs: bad leader address '$1'" &&
	test_expect_code 2 gfs --leader="$1" ls 2>err &&
	stderr_has "gfs: bad leader address '$1'"
}

test_expect_success 'bad --leader value: exit 2' '
	each bad_leader nope 127.0.0.1 :8000 127.0.0.1: 127.0.0.1:65536 \
	    127.0.0.1:-1 127.0.0.1:0x10 127.0.0.1:8000x ""
'

test_expect_success 'bad GFS_LEADER: exit 2' '
	GFS_LEADER=nope test_expect_code 2 gfs ls 2>err &&
	stderr_has "gfs: bad leader address '\''nope'\''"
'

bad_timeout () {
	test_expect_code 2 gfs --timeout "$1" ls >out 2>err &&
	empty out &&
	stderr_has "gfs: bad --timeout '$1'"
}

test_expect_success 'bad --timeout: exit 2' '
	each bad_timeout 0 0ms abc 5x -1 1.5s " 5" 5s5 \
	    99999999999999999999 2h "" &&
	test_expect_code 2 gfs --timeout=abc ls 2>err &&
	stderr_has "bad --timeout"
'

# wrong_arity CMD ARGS...: exit 2 and "usage: gfs CMD" on stderr.
wrong_arity () {
	local c=$1
	test_expect_code 2 gfs --leader "$NOWHERE" "$@" >out 2>err &&
	empty out &&
	grep -q "^usage: gfs $c" err ||
	{ echo >&2 "for: gfs $*"; cat >&2 err; return 1; }
}

test_expect_success 'each command with wrong arguments: exit 2, usage' '
	wrong_arity put &&
	wrong_arity put a b c &&
	wrong_arity put -x f &&
	wrong_arity get &&
	wrong_arity get a b &&
	wrong_arity get -o &&
	wrong_arity get -x a &&
	wrong_arity rm &&
	wrong_arity ls a b &&
	wrong_arity ls -x &&
	wrong_arity status x &&
	wrong_arity help put get
'

# unreachable "CMD ARGS": exit 3 within 3 s, a "gfs: ..." message.
unreachable () {
	local start=$SECONDS
	# shellcheck disable=SC2086
	test_expect_code 3 timeout 20 gfs --leader "$NOWHERE" $1 >out 2>err &&
	test $((SECONDS - start)) -le 3 &&
	grep -q "^gfs: ." err &&
	! grep -q "^usage:" err || { cat >&2 err; return 1; }
}

test_expect_success 'with the leader unreachable, every command fails fast with 3' '
	echo data >f &&
	each unreachable "put f" "put f name" "get f" "get f -o out2" "ls" \
	    "ls -l pre" "rm f" "status" &&
	! test -e out2
'

test_expect_success 'GFS_LEADER is used when --leader is not given' '
	GFS_LEADER=$NOWHERE test_expect_code 3 gfs ls 2>err &&
	stderr_has "gfs: "
'

# ---------------------------------------------------------------------------
# Against a cluster.

test_expect_success 'start a cluster' 'start_cluster 5'

test_expect_success 'put a file, get it to stdout and with -o' '
	{ printf "line %s\n" $(seq 1 700); printf "no newline"; } >file.txt &&
	test "$(wc -c <file.txt)" -gt 2048 &&
	test_expect_code 0 gfs put file.txt >out 2>err &&
	empty out && empty err &&
	test_expect_code 0 gfs get file.txt >got 2>err &&
	empty err &&
	cmp file.txt got &&
	test_expect_code 0 gfs get file.txt -o got2 >out 2>err &&
	empty out && empty err &&
	cmp file.txt got2 &&
	test_expect_code 0 gfs get -o got3 file.txt &&
	cmp file.txt got3
'

test_expect_success 'put names the file after the last component of FILE' '
	mkdir -p sub && echo sub >sub/leaf.txt &&
	gfs put sub/leaf.txt &&
	gfs get leaf.txt >got &&
	cmp sub/leaf.txt got
'

test_expect_success 'put -v reports what it stored' '
	printf "12345" >five &&
	gfs put -v five fivename >out &&
	grep -q "fivename" out && grep -q "5 bytes" out
'

test_expect_success 'an empty file round-trips' '
	: >empty &&
	gfs put empty &&
	gfs get empty >got &&
	test -f got && ! test -s got
'

test_expect_success 'binary bytes round-trip exactly' '
	head -c 5000 /dev/urandom >bin &&
	gfs put bin "dir/binary file" &&
	gfs get "dir/binary file" >got &&
	cmp bin got
'

test_expect_success 'put from stdin with - NAME' '
	printf "from stdin\n" >expect &&
	printf "from stdin\n" | gfs put - stdin/file &&
	gfs get stdin/file >got &&
	cmp expect got
'

test_expect_success 'put - without NAME: exit 2' '
	printf "x" | test_expect_code 2 gfs put - >out 2>err &&
	empty out &&
	grep -q "^usage: gfs put" err
'

test_expect_success 'put of a missing file: exit 3, message' '
	test_expect_code 3 gfs put x >out 2>err &&
	empty out &&
	test "$(cat err)" = "gfs: cannot open '\''x'\'': No such file or directory" &&
	test_expect_code 1 gfs get x 2>/dev/null
'

test_expect_success 'put of a directory: exit 3' '
	mkdir -p adir &&
	test_expect_code 3 gfs put adir >out 2>err &&
	empty out &&
	stderr_has "gfs: " && stderr_has "'\''adir'\''" &&
	test_expect_code 3 gfs put adir name 2>err &&
	test_expect_code 1 gfs get adir 2>/dev/null &&
	test_expect_code 1 gfs get name 2>/dev/null
'

# bad_name NAME: put refuses it with 2 and a message naming the problem.
bad_name () {
	test_expect_code 2 gfs put f "$1" >out 2>err &&
	empty out &&
	LC_ALL=C grep -q "^gfs: bad name .*: name " err ||
	{ printf >&2 "for name %q\n" "$1"; cat >&2 err; return 1; }
}

test_expect_success 'bad names: exit 2 with a clear message' '
	echo data >f &&
	bad_name "" && stderr_has "empty" &&
	bad_name "a//b" && stderr_has "empty component" &&
	bad_name "/a" && stderr_has "empty component" &&
	bad_name "a/" && stderr_has "empty component" &&
	bad_name "." && stderr_has "component" &&
	bad_name ".." && stderr_has "component" &&
	bad_name "a/../b" && stderr_has "component" &&
	bad_name "a/./b" && stderr_has "component" &&
	bad_name $'\''a\tb'\'' && stderr_has "control character" &&
	bad_name $'\''a\x7fb'\'' && stderr_has "control character" &&
	bad_name $'\''a\xffb'\'' && stderr_has "UTF-8" &&
	bad_name "$(printf "a%.0s" $(seq 1025))" && stderr_has "1024"
'

test_expect_success 'bad names are refused before any file is read' '
	test_expect_code 2 gfs put missing-file "a//b" 2>err &&
	stderr_has "bad name"
'

# bad_name_cmd "CMD" NAME: gfs CMD NAME refuses the name with 2, as put does.
bad_name_cmd () {
	test_expect_code 2 gfs $1 "$2" >out 2>err &&
	empty out &&
	LC_ALL=C grep -q "^gfs: bad name .*: name " err ||
	{ printf >&2 "for gfs %s %q\n" "$1" "$2"; cat >&2 err; return 1; }
}
get_bad_name () { bad_name_cmd get "$1"; }
rm_bad_name () { bad_name_cmd rm "$1"; }

test_expect_success 'get of a bad name: exit 2 with a clear message' '
	each get_bad_name "" "a//b" "/a" "a/" ".." $'\''a\tb'\''
'

test_expect_success 'rm of a bad name: exit 2 with a clear message' '
	each rm_bad_name "" "a//b" "/a" "a/" ".." $'\''a\tb'\''
'

test_expect_success 'a name ending in @DIGITS is refused, or can be read back' '
	echo at >f &&
	rc=0 && gfs put f at@1 2>err || rc=$? &&
	if test $rc = 2; then
		stderr_has "bad name"
	else
		test $rc = 0 &&
		gfs get at@1 >got &&
		cmp f got
	fi
'

test_expect_success 'a 1024-byte name works' '
	long=$(printf "n%.0s" $(seq 1024)) &&
	test ${#long} = 1024 &&
	echo long >f &&
	gfs put f "$long" &&
	gfs get "$long" >got &&
	cmp f got &&
	gfs ls | grep -qx "$long"
'

test_expect_success 'get of a missing name: exit 1, no such file' '
	test_expect_code 1 gfs get no/such/name >out 2>err &&
	empty out &&
	stderr_has "gfs: " && stderr_has "no such file" &&
	stderr_has "no/such/name"
'

test_expect_success 'rm of a missing name: exit 1' '
	test_expect_code 1 gfs rm no-such-name >out 2>err &&
	empty out &&
	stderr_has "gfs: " && stderr_has "no such file"
'

test_expect_success 'rm removes a file' '
	echo gone >g && gfs put g &&
	test_expect_code 0 gfs rm g >out 2>err &&
	empty out && empty err &&
	test_expect_code 1 gfs get g 2>/dev/null
'

test_expect_success 'rm of two names, one missing: exit 1, the other removed' '
	echo r1 >r1 && gfs put r1 &&
	echo r2 >r2 && gfs put r2 &&
	test_expect_code 1 gfs rm r1 missing-r r2 >out 2>err &&
	stderr_has "missing-r" &&
	test_expect_code 1 gfs get r1 2>/dev/null &&
	test_expect_code 1 gfs get r2 2>/dev/null
'

test_expect_success 'get -o into a nonexistent directory: exit 3' '
	test_expect_code 3 gfs get file.txt -o nodir/out >out 2>err &&
	empty out &&
	stderr_has "gfs: " && stderr_has "nodir/out" &&
	! test -e nodir
'

test_expect_success 'get -o of a missing name leaves no file behind' '
	rm -rf odir && mkdir odir &&
	test_expect_code 1 gfs get no-such-name -o odir/out 2>err &&
	stderr_has "no such file" &&
	test -z "$(ls -A odir)"
'

test_expect_success 'get -o that cannot rename leaves no temporary file' '
	rm -rf odir && mkdir -p odir/target &&
	test_expect_code 3 gfs get file.txt -o odir/target 2>err &&
	stderr_has "gfs: " &&
	test "$(ls -A odir)" = target &&
	test -z "$(ls -A odir/target)"
'

test_expect_success 'get -o replaces an existing file' '
	echo old >replaced &&
	gfs get file.txt -o replaced &&
	cmp file.txt replaced
'

test_expect_success 'get to a full stdout: exit 3' '
	test_expect_code 3 gfs get file.txt >/dev/full 2>err &&
	stderr_has "gfs: "
'

put_ls () { printf "%s" "$1" | gfs put - "ls/$1"; }

test_expect_success 'ls lists names sorted by bytes' '
	each put_ls "b" "a b" "a" "Zeta" "é.txt" "ä" "dir2/x" "dir2/y" \
	    "dir2-z" "dir2 sp" "~tilde" "0zero" &&
	test_expect_code 0 gfs ls >all 2>err && empty err &&
	grep "^ls/" all >out &&
	grep "^ls/" all | LC_ALL=C sort -c &&
	printf "ls/%s\n" "b" "a b" "a" "Zeta" "é.txt" "ä" "dir2/x" \
	    "dir2/y" "dir2-z" "dir2 sp" "~tilde" "0zero" | LC_ALL=C sort >expect &&
	test_cmp expect out &&
	LC_ALL=C sort all | test_cmp - all
'

test_expect_success 'ls PREFIX filters' '
	gfs ls ls/dir2 >out &&
	printf "ls/%s\n" "dir2 sp" "dir2-z" "dir2/x" "dir2/y" | LC_ALL=C sort >expect &&
	test_cmp expect out &&
	gfs ls ls/dir2/ >out &&
	printf "ls/dir2/%s\n" x y >expect &&
	test_cmp expect out &&
	test_expect_code 0 gfs ls no-such-prefix/ >out &&
	empty out
'

test_expect_success 'ls -l shows size and version' '
	printf "1234567" | gfs put - lsl &&
	printf "123" | gfs put - lsl &&
	gfs ls -l lsl >out &&
	test "$(wc -l <out)" = 1 &&
	read -r size version day time name <out &&
	test "$size" = 3 && test "$version" = 2 && test "$name" = lsl &&
	echo "$day" | grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" &&
	echo "$time" | grep -qE "^[0-9]{2}:[0-9]{2}:[0-9]{2}$"
'

test_expect_success 'ls -l keeps a name with spaces whole' '
	gfs ls -l "ls/a b" >out &&
	test "$(wc -l <out)" = 1 &&
	grep -q " ls/a b$" out
'

test_expect_success 'get NAME@1 after two puts gives the first version' '
	printf "first version\n" >v1 &&
	printf "second, longer version\n" >v2 &&
	gfs put v1 ver &&
	gfs put v2 ver &&
	gfs get ver@1 >got && cmp v1 got &&
	gfs get ver@2 >got && cmp v2 got &&
	gfs get ver >got && cmp v2 got &&
	gfs get ver@1 -o got1 && cmp v1 got1
'

test_expect_success 'get NAME@N of a version that does not exist: exit 1' '
	test_expect_code 1 gfs get ver@3 >out 2>err &&
	empty out &&
	stderr_has "gfs: "
'

test_expect_success 'status: exit 0, five servers healthy' '
	test_expect_code 0 gfs status >out 2>err &&
	empty err &&
	grep -q "^leader " out &&
	test "$(awk "\$3 == \"healthy\"" out | wc -l)" = 5 &&
	! grep -qw down out
'

test_expect_success 'status after kill_chunk 1: exit 3, one down' '
	kill_chunk 1 &&
	test_expect_code 3 gfs status >out 2>err &&
	test "$(awk "\$3 == \"down\"" out | wc -l)" = 1 &&
	test "$(awk "\$3 == \"healthy\"" out | wc -l)" = 4 &&
	grep -q "${CHUNK_ADDR[1]} .*down" out
'

test_expect_success 'files are still readable with one chunk server down' '
	gfs get file.txt >got && cmp file.txt got &&
	gfs get ver@1 >got && cmp v1 got
'

test_done
