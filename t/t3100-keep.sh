#!/bin/bash
test_description='a long-lived client keeps its ring and connections across restarts'
. "$(dirname "$0")/test-lib.sh"

# One gfs-keep process for the whole script: a struct gfs kept from
# request to request, as gfs bench and a gateway keep theirs.
# ask LINE: send LINE to it, print its answer.
ask () {
	printf '%s\n' "$1" >&"${KEEP[1]}" &&
	read -r -t 60 answer <&"${KEEP[0]}" &&
	printf '%s\n' "$answer"
}

# ok LINE: the answer to LINE is ok.
ok () {
	local a
	a=$(ask "$1") && test "$a" = ok ||
	{ echo >&2 "'$1' answered '$a'"; return 1; }
}

test_expect_success 'start two chunk servers (2 replicas) and the client' '
	start_cluster 2 &&
	coproc KEEP { gfs-keep -t 5000 "$LEADER_ADDR"; } &&
	head -c 5000 /dev/urandom >a && head -c 3000 /dev/urandom >b &&
	head -c 7000 /dev/urandom >c && head -c 100 /dev/urandom >d &&
	ok "put a a"
'

# Restarted at the same address with the same id, the server leaves the
# ring epoch as it was: the client must see by itself that the
# connection it kept is dead, or its next put finds one server short.
test_expect_success 'a chunk server restarts between two puts: the next one works' '
	restart_chunk 1 &&
	ok "put b b" &&
	ok "get a a.back" && cmp a a.back &&
	ok "get b b.back" && cmp b b.back
'

test_expect_success 'the other one restarts between two gets: the next one works' '
	restart_chunk 2 &&
	ok "get a a.back2" && cmp a a.back2 &&
	ok "put c c" && ok "get c c.back" && cmp c c.back
'

test_expect_success 'the leader restarts between two requests: the next ones work' '
	restart_leader &&
	wait_for "test \"\$(ring_servers)\" = 2" &&
	ok "get c c.back2" && cmp c c.back2 &&
	ok "put d d" && ok "get d d.back" && cmp d d.back
'

test_expect_success 'a bad request gets an error line and the client goes on' '
	a=$(ask "frob x y") && test "$a" = "error unknown command frob" &&
	a=$(ask "get nothing-here n.back") && case "$a" in "error "*) ;; *) false ;; esac &&
	ok "get a a.back3" && cmp a a.back3
'

test_expect_success 'end of input: the client exits 0' '
	exec {KEEP[1]}>&- &&
	wait "$KEEP_PID"
'

test_done
