#!/bin/bash
test_description='man pages: lint, and usage texts against SYNOPSIS'
. "$(dirname "$0")/test-lib.sh"

MAN=$GFS_ROOT/man
PAGES="gfs.1 gfs-protocol.7 gfs-leader.8 gfs-chunkd.8"

# section PAGE NAME: the source lines of section NAME (.Sh NAME up to the
# next .Sh, both excluded).
section () {
	awk -v want="$2" '
		/^\.Sh / { on = (substr($0, 5) == want); next }
		on { print }' "$MAN/$1"
}

# render PAGE: the page as plain text, wide enough that no line wraps.
render () {
	groff -mdoc -Tascii -P-cbou -rLL=300n "$MAN/$1" 2>/dev/null
}

# rendered_section PAGE NAME: one section of the rendered page, without
# its heading, indentation and blank lines.
rendered_section () {
	render "$1" | awk -v want="$2" '
		/^[A-Z]/ { on = ($0 == want); next }
		on && NF { sub(/^ +/, ""); print }'
}

# each FUNC ARG...: FUNC ARG for each ARG; stops at the first failure.
# Test bodies run under eval inside test_expect_success, where a `return`
# would skip the test's report, so loops that can fail live in helpers.
each () {
	local f=$1 a; shift
	for a; do
		"$f" "$a" || { printf >&2 'failed for %q\n' "$a"; return 1; }
	done
}

# not_empty FILE: FILE has something in it (a guard against comparing two
# empty extractions).
not_empty () { test -s "$1" || { echo >&2 "$1 is empty"; return 1; }; }

for page in $PAGES; do
	test_expect_success "$page: clean under groff -mdoc -ww -z" '
		test -f "$MAN/$page" &&
		groff -mdoc -ww -z "$MAN/$page" >out 2>&1 &&
		{ test ! -s out || { cat >&2 out; false; }; }
	'
done

# Allowed mandoc -Tlint messages:
# - gfs-protocol(7) has ERRORS and EXAMPLES sections where mdoc expects
#   them only in sections 2, 3, 4, 9 and in another order: deliberate.
# - "operating system explicitly specified": .Os carries "gfs VERSION" so
#   the footer names the package and its version (checked below).
# - "referenced manual not found" and "mandoc.db" notes depend on which
#   manuals the host has installed, not on the page.
lint_allowed='WARNING: unexpected section: Sh ERRORS for 2, 3, 4, 9 only$'
lint_allowed+='|WARNING: sections out of conventional order: Sh EXAMPLES$'
lint_allowed+='|STYLE: operating system explicitly specified: Os gfs'
lint_allowed+='|STYLE: referenced manual not found: Xr '
lint_allowed+='|mandoc\.db'

if command -v mandoc >/dev/null; then
	for page in $PAGES; do
		test_expect_success "$page: clean under mandoc -Tlint" '
			mandoc -Tlint "$MAN/$page" >out 2>&1
			rc=$?
			grep -vE "$lint_allowed" out >bad
			test ! -s bad || { cat >&2 bad; false; } &&
			# 0 none, 1 only style (mandoc >= 1.14.5), 2 warnings
			test $rc -le 2 || { cat >&2 out; false; }
		'
	done
	no_warnings () { ! mandoc -Tlint "$MAN/$1" 2>&1 | grep -E "WARNING|ERROR"; }
	test_expect_success 'the two known warnings are only in gfs-protocol.7' '
		each no_warnings gfs.1 gfs-leader.8 gfs-chunkd.8
	'
else
	say "mandoc not installed: mandoc -Tlint checks left out"
fi

# shellcheck disable=SC2154 # v is set by the test body below
os_is_v () { grep -qx "\.Os gfs $v" "$MAN/$1"; }
test_expect_success 'the version in .Os and in gfs.1 is the one gfs prints' '
	v=$(gfs --version | sed -n "s/^gfs version \([0-9.]*\)$/\1/p") &&
	test -n "$v" &&
	# shellcheck disable=SC2086
	each os_is_v $PAGES &&
	grep -qx "\.Ql gfs version $v" "$MAN/gfs.1" &&
	test "$(gfs-leader --version)" = "gfs-leader version $v" &&
	test "$(gfs-chunkd --version)" = "gfs-chunkd version $v"
'

# ---------------------------------------------------------------------------
# Daemons: usage() against SYNOPSIS and the option list.

# usage_synopsis PROG: the synopsis lines of PROG --help (up to the first
# blank line).
usage_synopsis () { "$1" --help | sed '/^$/q'; }

# usage_longopts PROG: "opt|req --word [ARG]" for each long option in the
# synopsis of --help, sorted.
usage_longopts () {
	usage_synopsis "$1" |
	grep -oE '\[--[a-z-]+( [A-Z][A-Z:]*)?\]|(^| )--[a-z-]+( [A-Z][A-Z:]*)?' |
	sed -E 's/^ //' | sed -E 's/^\[(.*)\]$/opt \1/; t; s/^/req /' |
	LC_ALL=C sort
}

# man_longopts PAGE: the same from the page's SYNOPSIS.
man_longopts () {
	section "$1" SYNOPSIS |
	sed -nE 's/^\.Op Fl -([a-z-]+)( Ar ([^ ]+))?$/opt --\1 \3/p
		s/^\.Fl -([a-z-]+)( Ar ([^ ]+))?$/req --\1 \3/p' |
	sed 's/ $//' | LC_ALL=C sort
}

# usage_shortopts PROG, man_shortopts PAGE: the one-letter flags, one a line.
usage_shortopts () {
	usage_synopsis "$1" | grep -oE '\[-[a-zA-Z]+\]' | tr -d '[]-' |
	fold -w1 | LC_ALL=C sort
}
man_shortopts () {
	section "$1" SYNOPSIS | grep -E '^\.(Op )?Fl [a-zA-Z]( |$)' |
	sed -E 's/^\.(Op )?Fl ([a-zA-Z]).*/\2/' | LC_ALL=C sort
}

# usage_optlist PROG: every flag in the option list of --help (the lines
# after the synopsis that start with two spaces and a dash).
usage_optlist () {
	"$1" --help | sed '1,/^$/d' | grep -E '^  -' |
	sed -E 's/^  //; s/  .*//; s/ [A-Z][A-Z:]*$//; s/, /\n/g' |
	LC_ALL=C sort
}

# man_optlist PAGE: every flag of an ".It Fl" item in DESCRIPTION.
man_optlist () {
	section "$1" DESCRIPTION | grep -E '^\.It Fl ' |
	sed -E 's/^\.It Fl //; s/ Ar [^ ]+$//; s/ , / /g' | tr ' ' '\n' |
	sed 's/^/-/' | LC_ALL=C sort
}

# sample_args: from "kind --opt [ARG]" lines on stdin, set args to the
# options, each with a sample value.
sample_args () {
	local kind opt arg
	args=()
	while read -r kind opt arg; do
		args+=("$opt")
		test -z "$arg" && continue
		args+=("$(sample_value "$arg")") || return 1
	done
}

# sample_value ARG: a valid value for an option argument of that kind.
sample_value () {
	case $1 in
	HOST:PORT) echo 127.0.0.1:0 ;;
	DIR) echo "$TRASH/sample" ;;
	N) echo 2 ;;
	DURATION) echo 7s ;;
	RATE) echo 20M ;;
	MODE) echo cdc ;;
	SIZE) echo 1M ;;
	PERCENT) echo 25 ;;
	*) echo "no sample value for $1" >&2; return 1 ;;
	esac
}

# unknown_opt OPT: $prog refuses it with 2 and usage on stderr.
unknown_opt () {
	test_expect_code 2 timeout 10 "$prog" -n --data d "$1" >out 2>err &&
	test ! -s out &&
	grep -q "^usage: $prog " err || { cat >&2 err; return 1; }
}

# bad_value "--opt VALUE": $prog refuses it with 2 and "PROG: bad --opt".
bad_value () {
	# shellcheck disable=SC2086
	test_expect_code 2 timeout 10 "$prog" -n --data d $1 >out 2>err &&
	test ! -s out &&
	grep -q "^$prog: bad ${1%% *} '" err || { cat >&2 err; return 1; }
}

for prog in gfs-leader gfs-chunkd; do
	page=$prog.8

	test_expect_success "$prog --help: exit 0, usage on stdout" '
		test_expect_code 0 $prog --help >out 2>err &&
		test ! -s err &&
		head -n 1 out | grep -q "^usage: $prog " &&
		test_expect_code 0 $prog -h >out2 &&
		test_cmp out out2
	'

	test_expect_success "$prog: long options of usage and SYNOPSIS agree" '
		usage_longopts $prog >usage &&
		man_longopts $page >man &&
		not_empty usage && not_empty man &&
		test_cmp usage man
	'

	test_expect_success "$prog: one-letter flags of usage and SYNOPSIS agree" '
		usage_shortopts $prog >usage &&
		man_shortopts $page >man &&
		not_empty usage &&
		test_cmp usage man
	'

	test_expect_success "$prog: option list of --help and of $page agree" '
		usage_optlist $prog >usage &&
		man_optlist $page >man &&
		not_empty usage &&
		test_cmp usage man
	'

	test_expect_success "$prog: every option in SYNOPSIS is accepted" '
		rm -rf sample &&
		man_longopts $page >opts &&
		not_empty opts &&
		sample_args <opts &&
		test_expect_code 0 timeout 10 $prog -n -d -v "${args[@]}" \
			>out 2>err &&
		test "$(cat out)" = "configuration OK"
	'

	test_expect_success "$prog -n --data DIR: configuration OK, exit 0" '
		rm -rf data-$prog &&
		test_expect_code 0 timeout 10 $prog -n --data data-$prog >out 2>err &&
		test "$(cat out)" = "configuration OK" &&
		test -d data-$prog &&
		test_expect_code 0 timeout 10 $prog -n --data data-$prog >out &&
		test "$(cat out)" = "configuration OK"
	'

	test_expect_success "$prog: unknown option, exit 2 with usage on stderr" '
		each unknown_opt --bogus -x --help=x --listen
	'

	test_expect_success "$prog: operand or missing --data, exit 2" '
		test_expect_code 2 timeout 10 $prog -n --data d extra >out 2>err &&
		test ! -s out && grep -q "^usage: $prog " err &&
		test_expect_code 2 timeout 10 $prog -n >out 2>err &&
		test ! -s out && grep -q -- "--data" err
	'

	test_expect_success "$prog: bad option values, exit 2 with a message" '
		each bad_value "--listen nope" "--listen 127.0.0.1:65536" \
		    "--listen localhost:1" "--pending-ttl 0" \
		    "--pending-ttl 5x" "--pending-ttl -1"
	'
done

test_expect_success 'gfs-leader: --replicas and --tokens out of range, exit 2' '
	prog=gfs-leader &&
	each bad_value "--replicas 0" "--replicas 9" "--replicas x" \
	    "--tokens 0" "--tokens 1025" "--tokens -5"
'

test_expect_success 'gfs-chunkd: bad --leader and --hello-interval, exit 2' '
	prog=gfs-chunkd &&
	each bad_value "--leader nope" "--leader 127.0.0.1:x" \
	    "--hello-interval 0" "--hello-interval 1y"
'

# ---------------------------------------------------------------------------
# gfs: the commands of "gfs help" against COMMANDS and SYNOPSIS.

# help_commands: the command names "gfs help" lists, in its order.
help_commands () {
	gfs help | awk '/^Commands:$/ { on = 1; next } on && /^$/ { exit }
		on { print $1 }'
}

# help_usage CMD: the usage lines of "gfs help CMD", one per form of it.
help_usage () {
	gfs help "$1" | sed "/^$/q" | sed -E "s/^(usage:)? +//; /^$/d"
}

test_expect_success 'gfs: every command of gfs help has a COMMANDS entry' '
	help_commands >cmds &&
	not_empty cmds &&
	section gfs.1 COMMANDS | sed -nE "s/^\.It Cm ([a-z]+)( .*)?$/\1/p" >man &&
	test_cmp cmds man
'

test_expect_success 'gfs: every command of gfs help is in SYNOPSIS' '
	help_commands >cmds &&
	section gfs.1 SYNOPSIS | sed -nE "s/^\.Cm ([a-z]+)$/\1/p" >man &&
	test_cmp cmds man
'

test_expect_success 'gfs: usage lines of gfs help are the SYNOPSIS' '
	{
		gfs help | sed "/^$/q" | sed -E "s/^(usage:)? +//; /^$/d"
	} >usage0 &&
	help_commands >cmds &&
	# The global synopsis first, then one line per command, from
	# "gfs help CMD" (so that it is checked too).
	{
		head -n 1 usage0
		uniq cmds | while read -r c; do
			help_usage "$c"
		done
		tail -n +2 usage0
	} | sed -E "s/ \.\.\./.../g" >usage &&
	rendered_section gfs.1 SYNOPSIS | sed -E "s/ \.\.\./.../g" >man &&
	not_empty usage &&
	test_cmp usage man
'

test_expect_success 'gfs: COMMANDS items match the usage of each command' '
	help_commands >cmds &&
	uniq cmds | while read -r c; do
		help_usage "$c" | sed "s/^gfs //"
	done | sed -E "s/ \.\.\./.../g" >usage &&
	render gfs.1 | awk "
		/^[A-Z]/ { on = (\$0 == \"COMMANDS\"); next }
		on && /^     [a-z]/ { sub(/^ +/, \"\"); sub(/  .*/, \"\"); print }" |
	sed -E "s/ \.\.\./.../g" >man &&
	not_empty usage &&
	test_cmp usage man
'

test_expect_success 'gfs: every global option of the usage is described in gfs.1' '
	gfs help | head -n 2 | grep -oE "\-\-[a-z-]+" | LC_ALL=C sort -u >usage &&
	section gfs.1 DESCRIPTION |
	sed -nE "s/^\.It Fl (.+ , )?-([a-z-]+)( Ar .*)?$/--\2/p" |
	LC_ALL=C sort -u >man &&
	not_empty usage &&
	LC_ALL=C comm -23 usage man >missing &&
	{ test ! -s missing || { cat >&2 missing; false; }; }
'

test_done
