#!/bin/bash
test_description='a chunk server behind a fault proxy: slow, blackholed, reset and dropped links'
. "$(dirname "$0")/test-lib.sh"

# Chunk server 3 announces the address of proxy c3, and talks to the
# leader through proxy l3, so that link3 MODE cuts it off from every
# other party: the leader's health checks, the clients, the other chunk
# servers' repair, and its own HELLO.  The leader checks health every
# 2 s (a slow link of 2 x 300 ms must pass, even under ASan on a busy
# machine) and removes a server after 3 misses.

# ms_since T0: milliseconds since T0 (from date +%s%N)
ms_since () { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# within MS CMD...: CMD succeeds within MS ms; its time is in took_ms
within () {
	local limit=$1 t0; shift
	t0=$(date +%s%N)
	"$@" || return 1
	took_ms=$(ms_since "$t0")
	echo "# took $took_ms ms: $*" >&2
	test "$took_ms" -le "$limit" ||
		{ echo >&2 "took longer than $limit ms: $*"; return 1; }
}

# get_ok NAME SUM [ARGS...]: gfs ARGS get NAME reads back with checksum SUM
get_ok () {
	local name=$1 sum=$2; shift 2
	test "$(gfs "$@" get "$name" | sha256sum | cut -c1-64)" = "$sum" ||
		{ echo >&2 "$name differs"; return 1; }
}

# put_sum FILE SUMS [ARGS...]: gfs ARGS put FILE, its checksum into SUMS
put_sum () {
	local f=$1 sums=$2; shift 2
	gfs "$@" put "$f" &&
	echo "$(sha256sum <"$f" | cut -c1-64) $f" >>"sums.$sums"
}

# big_files N PREFIX: N files of 100 KB each put, checksums in
# sums.PREFIX.  100 chunks each: every one has chunks that server 3
# owns (all but a 1e-9 chance).
big_files () {
	local i
	: >"sums.$2"
	for ((i = 0; i < $1; i++)); do
		head -c 102400 /dev/urandom >"$2.$i" && put_sum "$2.$i" "$2" ||
			return 1
	done
}

# timed_gets SUMS MAX_MS [ARGS...]: every file of sums.SUMS reads back
# right, each within MAX_MS; the times, in order, go to times.SUMS
timed_gets () {
	local sums=$1 max=$2 sum name; shift 2
	: >"times.$sums"
	while read -r sum name; do
		within "$max" get_ok "$name" "$sum" "$@" || return 1
		echo "$took_ms" >>"times.$sums"
	done <"sums.$sums"
}

# bg_put FILE SUMS MAX_MS [ARGS...]: put_sum in the background, within
# MAX_MS; its status goes to bg.rc, its time to bg.ms
bg_put () {
	local f=$1 sums=$2 max=$3; shift 3
	rm -f bg.rc bg.ms
	{
		within "$max" put_sum "$f" "$sums" "$@"
		rc=$?
		echo "$took_ms" >bg.ms
		echo $rc >bg.rc
	} &
	bg_job=$!
}

# check_every: every file written so far reads back byte-identical
check_every () {
	local f
	for f in sums.*; do
		check_all "${f#sums.}" || return 1
	done
}

# log_ms PATTERN: when the leader first logged a line matching PATTERN
# after line log0 of its log, in ms since the epoch
log_ms () {
	local ts
	ts=$(tail -n "+$((log0 + 1))" leader.log | grep -m 1 -- "$1" |
		cut -d" " -f1) &&
	test -n "$ts" && date -d "$ts" +%s%3N
}

# ring_line ADDR: the leader's SERVER line for the server at ADDR
ring_line () {
	printf 'RING\r\nQUIT\r\n' | gfs-raw -t 2000 "$LEADER_ADDR" | tr -d '\r' |
		awk -v a="$1" '$1 == "SERVER" && $3 == a'
}
state3 () { ring_line "${PROXY_ADDR[c3]}" | awk '{ print $4 }'; }

# link3 MODE [MS]: both of server 3's links switch to MODE
link3 () { proxy_mode c3 "$@" && proxy_mode l3 "$@"; }

# fsck_clean: repair has put every chunk where the ring wants it
fsck_clean () {
	gfs fsck >fsck.out 2>&1 &&
	grep "0 under-replicated, 0 misplaced, 0 unreadable" fsck.out
}

# conn_start PROXY: one connection through PROXY sends PING and waits
# for the file "go" to send another PING and QUIT; gfs-raw's output
# goes to conn.out and conn.err, its exit status to conn.rc.  Returns
# once the first PONG is in.
conn_start () {
	rm -f go conn.out conn.err conn.rc
	{
		printf 'PING\r\n'
		wait_for 'test -f go' 20 && printf 'PING\r\nQUIT\r\n'
	} | {
		gfs-raw -t 1500 "${PROXY_ADDR[$1]}" >conn.out 2>conn.err
		echo $? >conn.rc
	} &
	conn_job=$!
	wait_for 'grep -qs PONG conn.out' 10
}

# conn_finish: send the second PING; conn_ms is how long the connection
# then took to end.
conn_finish () {
	local t0
	t0=$(date +%s%N)
	touch go &&
	wait_for 'test -s conn.rc' 10 &&
	conn_ms=$(ms_since "$t0") &&
	wait "$conn_job" &&
	echo "# connection ended after $conn_ms ms, status $(cat conn.rc)" >&2
}

# hole_start PROXY: a connection through PROXY sends a PING and waits
# up to 10 s for anything; status to conn.rc
hole_start () {
	rm -f conn.out conn.rc
	{
		printf 'PING\r\n' | gfs-raw -t 10000 "${PROXY_ADDR[$1]}" >conn.out
		echo $? >conn.rc
	} &
	conn_job=$!
}

# conn_end: the connection ends by itself, before its second PING
conn_end () {
	wait_for 'test -s conn.rc' 10 && touch go && wait "$conn_job"
}

pongs () { grep -c '^PONG ' conn.out; }

test_expect_success 'a cluster of 5, server 3 behind two proxies' '
	LEADER_FLAGS="--health-interval 2s --remove-after 3" \
	CHUNK_FLAGS="--hello-interval 200ms --repair-interval 500ms --repair-rate 100M" \
		start_cluster 5 &&
	start_proxy c3 "${CHUNK_ADDR[3]}" &&
	start_proxy l3 "$LEADER_ADDR" &&
	stop_chunk 3 &&
	# shellcheck disable=SC2086
	start_chunk 3 $CHUNK_FLAGS --advertise "${PROXY_ADDR[c3]}" \
		--leader "${PROXY_ADDR[l3]}" &&
	wait_for "test \"\$(state3)\" = healthy" 10 &&
	test "$(ring_servers)" = 5 &&
	grep "as ${PROXY_ADDR[c3]}" chunk3.log &&
	test "$(chunk_stats 3 | sed -n "s/.*\"addr\":\"\([^\"]*\)\".*/\1/p")" = \
		"${PROXY_ADDR[c3]}"
'

# The proxy itself, one mode at a time, on a connection opened before
# the change and on new ones; proxy t is in front of server 1 and only
# these tests use it.
test_expect_success 'proxy: pass forwards, the control port answers' '
	start_proxy t "${CHUNK_ADDR[1]}" &&
	conn_start t && conn_finish &&
	test "$(cat conn.rc)" = 0 && test "$(pongs)" = 2 &&
	test "$(proxy_stat t mode)" = pass &&
	test "$(proxy_stat t accepted)" -ge 1 &&
	printf "MODE\r\nMODE fast\r\nMODE delay\r\nMODE delay -1\r\nBOGUS\r\nQUIT\r\n" |
		gfs-raw -t 2000 "${PROXY_CTL[t]}" | tr -d "\r" >ctl.out &&
	cat >ctl.want <<-\EOF &&
	MODE pass
	ERROR BAD_ARGS want MODE pass|delay MS|drop|reset|blackhole
	ERROR BAD_ARGS want MODE pass|delay MS|drop|reset|blackhole
	ERROR BAD_ARGS want MODE pass|delay MS|drop|reset|blackhole
	ERROR UNKNOWN_COMMAND '"'"'BOGUS'"'"'
	EOF
	test_cmp ctl.want ctl.out
'

test_expect_success 'proxy: delay holds open connections too, each way' '
	conn_start t &&
	proxy_mode t delay 300 &&
	conn_finish &&
	test "$(cat conn.rc)" = 0 && test "$(pongs)" = 2 &&
	test "$conn_ms" -ge 600 &&
	test "$(proxy_stat t delay_ms)" = 300 &&
	proxy_mode t pass
'

test_expect_success 'proxy: blackhole answers nothing; leaving it closes holed connections' '
	conn_start t &&
	proxy_mode t blackhole &&
	conn_finish &&
	test "$(cat conn.rc)" = 4 && test "$(pongs)" = 1 &&
	test_expect_code 4 sh -c "printf \"PING\r\n\" |
		gfs-raw -t 500 ${PROXY_ADDR[t]} >new.out" &&
	test ! -s new.out &&
	d0=$(proxy_stat t discarded) &&
	# open, blackholed, it is cut when the link comes back
	hole_start t &&
	wait_for "test \$(proxy_stat t discarded) -ge \$((d0 + 6))" 10 &&
	proxy_mode t pass &&
	wait_for "test -s conn.rc" 5 && wait $conn_job &&
	test "$(cat conn.rc)" = 0 && test ! -s conn.out
'

test_expect_success 'proxy: reset resets open and new connections' '
	conn_start t &&
	proxy_mode t reset &&
	conn_end &&
	test "$(cat conn.rc)" = 0 && test "$(pongs)" = 1 &&
	grep "connection reset by server" conn.err &&
	gfs-raw -t 2000 "${PROXY_ADDR[t]}" </dev/null >new.out 2>new.err &&
	test ! -s new.out &&
	grep "connection reset by server" new.err &&
	proxy_mode t pass
'

test_expect_success 'proxy: drop closes open and new connections' '
	conn_start t &&
	proxy_mode t drop &&
	conn_end &&
	test "$(cat conn.rc)" = 0 && test "$(pongs)" = 1 &&
	test ! -s conn.err &&
	gfs-raw -t 2000 "${PROXY_ADDR[t]}" </dev/null >new.out 2>new.err &&
	test ! -s new.out && test ! -s new.err &&
	proxy_mode t pass &&
	printf "PING\r\nQUIT\r\n" | gfs-raw "${PROXY_ADDR[t]}" | grep "^PONG "
'

test_expect_success '(a) pass: puts and gets go through the proxy' '
	before=$(proxy_stat c3 bytes_down) &&
	put_many 20 a &&
	big_files 4 big &&
	check_all a && check_all big &&
	test "$(proxy_stat c3 bytes_up)" -gt 100000 &&
	test "$(proxy_stat c3 bytes_down)" -gt $((before + 100000))
'

test_expect_success '(b) delay 300 ms: gets still return the right bytes' '
	link3 delay 300 &&
	timed_gets big 5000 --timeout 2s &&
	# each waited for server 3: one request, one reply, 300 ms each way
	sort -n times.big | head -n 1 >min && test "$(cat min)" -ge 600 &&
	: >sums.slow &&
	head -c 20000 /dev/urandom >slow.1 && put_sum slow.1 slow &&
	check_all slow &&
	test "$(state3)" = healthy
'

test_expect_success '(c) blackhole: gets and a put fail over within one --timeout' '
	link3 pass &&
	wait_for "test \"\$(state3)\" = healthy" 10 &&
	: >sums.dark &&
	head -c 102400 /dev/urandom >dark.0 &&
	log0=$(wc -l <leader.log) &&
	t_cut=$(date +%s%3N) &&
	link3 blackhole &&
	# a put and gets at once, before the leader can notice; a second
	# timeout would take them past their bound
	bg_put dark.0 dark 5500 --timeout 3s &&
	timed_gets big 5500 --timeout 3s &&
	wait_for "test -s bg.rc" 10 && wait $bg_job &&
	test "$(cat bg.rc)" = 0 &&
	# the first get and the put did wait for server 3, once
	test "$(head -n 1 times.big)" -ge 2900 &&
	test "$(cat bg.ms)" -ge 2900 &&
	check_all dark
'

test_expect_success '(c) blackhole: once the leader notices, puts skip it' '
	wait_for "test \"\$(state3)\" != healthy" 10 &&
	for i in 1 2 3 4; do
		head -c $((i * 7000)) /dev/urandom >dark.$i &&
		within 2500 put_sum dark.$i dark --timeout 5s || return 1
	done &&
	check_all dark
'

test_expect_success '(c) blackhole: unhealthy, then removed after --remove-after' '
	wait_for "test \"\$(state3)\" = removed" 10 &&
	id3=$(ring_line "${PROXY_ADDR[c3]}" | awk "{ print \$2 }") &&
	t_bad=$(log_ms "$id3 .* missed a health check: unhealthy") &&
	t_gone=$(log_ms "$id3 .* missed 3 health checks: removed") &&
	echo "# unhealthy $((t_bad - t_cut)) ms after the cut," \
		"removed $((t_gone - t_bad)) ms later" &&
	# the first check after the cut (one in flight at the cut may time
	# out a little sooner), then two more, 2 s apart
	test $((t_bad - t_cut)) -ge 1000 && test $((t_bad - t_cut)) -le 5000 &&
	test $((t_gone - t_bad)) -ge 3000 && test $((t_gone - t_bad)) -le 6000 &&
	timed_gets big 2500 --timeout 5s &&
	check_every
'

test_expect_success '(d) pass again: it comes back, repair makes fsck clean' '
	link3 pass &&
	wait_for "test \"\$(state3)\" = healthy" 10 &&
	grep "chunk server $id3 .* is back (was removed)" leader.log &&
	wait_for fsck_clean 60 &&
	check_every
'

test_expect_success '(e) reset: gets and puts fail over at once' '
	f0=$(proxy_stat c3 faulted) &&
	link3 reset &&
	timed_gets big 2500 --timeout 5s &&
	: >sums.rst &&
	head -c 30000 /dev/urandom >rst.1 &&
	within 2500 put_sum rst.1 rst --timeout 5s &&
	test "$(proxy_stat c3 faulted)" -gt "$f0"
'

test_expect_success '(e) drop: gets and puts fail over at once' '
	link3 pass &&
	wait_for "test \"\$(state3)\" = healthy" 10 &&
	link3 drop &&
	timed_gets big 2500 --timeout 5s &&
	: >sums.drp &&
	head -c 30000 /dev/urandom >drp.1 &&
	within 2500 put_sum drp.1 drp --timeout 5s
'

# Only the inbound link cut: the server still reaches the leader and
# says HELLO every 200 ms, but no one reaches it.  A HELLO alone must
# not bring it back: only an answered health check does.
test_expect_success 'inbound link cut only: removed, and it stays out while it says HELLO' '
	link3 pass &&
	wait_for "test \"\$(state3)\" = healthy" 10 &&
	proxy_mode c3 blackhole &&
	wait_for "test \"\$(state3)\" = removed" 20 &&
	n0=$(grep -c "$id3 .* is back" leader.log) &&
	h0=$(proxy_stat l3 accepted) &&
	for i in 1 2 3 4 5 6; do
		sleep 1
		test "$(state3)" = removed || return 1
	done &&
	test "$(proxy_stat l3 accepted)" -gt "$h0" &&
	test "$(grep -c "$id3 .* is back" leader.log)" = "$n0" &&
	proxy_mode c3 pass &&
	wait_for "test \"\$(state3)\" = healthy" 10
'

test_expect_success 'pass: healthy, fsck clean, every file byte-identical' '
	link3 pass &&
	wait_for "test \"\$(state3)\" = healthy" 10 &&
	wait_for fsck_clean 60 &&
	check_every &&
	test "$(chunk_stats 3 | json_num chunks)" -gt 0
'

test_expect_success 'servers and proxies stop cleanly' '
	stop_cluster &&
	stop_proxy c3 &&
	stop_proxy l3 &&
	stop_proxy t
'

test_done
