#!/bin/bash
test_description='membership: health checks, server states, stable tokens, ring balance'
. "$(dirname "$0")/test-lib.sh"
. "$GFS_ROOT/t/lib-proto.sh"

# Health checks every 100 ms, removal after 5 misses; HELLO every 200 ms.
LEADER_FLAGS="--health-interval 100ms --remove-after 5"
CHUNK_FLAGS="--hello-interval 200ms"
N=5

# Helpers.  A RING reply as send prints it is kept in a file and read
# with these; ID[i] is the id of chunk server i.

# ring FILE: fetch the ring into FILE, checked against gfs-protocol(7).
ring () { ring_reply >"$1"; }

epoch_of () { head -n 1 "$1" | cut -d' ' -f2; }

# field FILE ID COL: column COL of the SERVER line of ID (2 id, 3 addr,
# 4 state, 5 ntokens, 6 misses, 7 milliseconds since last seen).
field () { awk -v id="$2" -v c="$3" '$1 == "SERVER" && $2 == id { print $c }' "$1"; }

# tokens_of FILE ID: the tokens of ID, one a line, in the order listed.
tokens_of () {
	awk -v id="$2" '$1 == "SERVER" { on = ($2 == id) }
		on && $1 == "TOKENS" { for (i = 2; i <= NF; i++) print $i }' "$1"
}

# ring_is I STATE: the leader has chunk server I in STATE, at its address;
# the reply is left in ring.now.
ring_is () {
	ring ring.now &&
	test "$(field ring.now "${ID[$1]}" 4)" = "$2" &&
	test "$(field ring.now "${ID[$1]}" 3)" = "${CHUNK_ADDR[$1]}"
}

# all_healthy: every one of the N chunk servers is healthy (ring.now).
all_healthy () {
	ring ring.now &&
	test "$(awk '$1 == "SERVER" && $4 == "healthy"' ring.now | wc -l)" = "$N"
}

# shares_of FILE: "id share" for each server on the ring (not removed),
# sorted by id.  Each token owns the arc from the token before it on the
# ring (exclusive) to itself, the lowest token the arc that wraps around.
# Tokens are sorted as 16-digit hex strings, then their top 48 bits are
# used as numbers, exact in awk's doubles.
shares_of () {
	awk '$1 == "SERVER" { id = $2; on = ($4 != "removed") }
		on && $1 == "TOKENS" { for (i = 2; i <= NF; i++) print $i, id }' "$1" |
	LC_ALL=C sort |
	awk 'function top48(h,  v, i) {
			v = 0
			for (i = 1; i <= 12; i++)
				v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
			return v
		}
		{ t = top48($1) }
		NR == 1 { first = t; firstid = $2 }
		NR > 1 { share[$2] += t - prev }
		{ prev = t }
		END {
			full = 281474976710656	# 2^48
			share[firstid] += first + full - prev
			for (id in share) printf "%s %.9f\n", id, share[id] / full
		}' | LC_ALL=C sort
}

# balance FILE: print the shares as TAP comments; fail if the largest is
# over 1.15 x the mean, or if they do not add up to 1.
balance () {
	shares_of "$1" >shares &&
	awk '{ n++; sum += $2; if ($2 > max) max = $2; if (min == "" || $2 < min) min = $2
		printf "# share of %s: %.4f\n", $1, $2 }
		END {
			mean = sum / n
			printf "# %d servers: max/mean %.3f, min/mean %.3f, sum %.6f\n",
				n, max / mean, min / mean, sum
			if (n < 1 || sum < 0.9999 || sum > 1.0001 || max > 1.15 * mean)
				exit 1
		}' shares >&8
}

leader_alive () { printf 'PING\r\n' | send "$LEADER_ADDR" | grep -qx 'PONG leader'; }

test_expect_success 'set-up: a leader and 5 chunk servers' '
	start_cluster $N &&
	for i in $(seq $N); do
		ID[i]=$(printf "PING\r\n" | send "${CHUNK_ADDR[i]}" |
			sed -n "s/^PONG //p") && test -n "${ID[i]}" || break
	done &&
	test ${#ID[@]} = $N
'

test_expect_success 'a healthy cluster: RING lists all 5, healthy, 128 tokens each' '
	wait_for all_healthy &&
	for i in $(seq $N); do
		echo "${ID[i]} ${CHUNK_ADDR[i]} healthy 128 0" || break
	done | sort >expect &&
	awk "\$1 == \"SERVER\" { print \$2, \$3, \$4, \$5, \$6 }" ring.now |
		sort >actual &&
	test_cmp expect actual &&
	head -n 1 ring.now | grep -q "^RING [0-9]* 2 5 fixed\$" &&
	test "$(epoch_of ring.now)" -ge $N &&
	stat_is "$LEADER_ADDR" servers 5 && stat_is "$LEADER_ADDR" servers_active 5
'

test_expect_success 'ring balance: with 5 servers the largest share is at most 1.15 x the mean' '
	ring ring.balance &&
	test "$(shares_of ring.balance | wc -l)" = 5 &&
	balance ring.balance
'

V=3	# the chunk server that is paused

test_expect_success 'SIGSTOP: the server becomes unhealthy at its first miss, the epoch moves on' '
	wait_for all_healthy &&
	cp ring.now ring.healthy &&
	E0=$(epoch_of ring.healthy) &&
	tokens_of ring.healthy "${ID[V]}" >tokens.before &&
	test "$(wc -l <tokens.before)" = 128 &&
	pause_chunk $V &&
	wait_for "ring_is $V unhealthy" &&
	cp ring.now ring.unhealthy &&
	m=$(field ring.unhealthy "${ID[V]}" 6) &&
	test "$m" -ge 1 && test "$m" -le 4 &&
	E1=$(epoch_of ring.unhealthy) &&
	test "$E1" -gt "$E0" &&
	tokens_of ring.unhealthy "${ID[V]}" >tokens.now &&
	test_cmp tokens.before tokens.now
'

test_expect_success 'after 5 misses it is removed: still listed, no longer counted' '
	wait_for "ring_is $V removed" &&
	cp ring.now ring.removed &&
	test "$(field ring.removed "${ID[V]}" 6)" = 5 &&
	test "$(field ring.removed "${ID[V]}" 5)" = 128 &&
	E2=$(epoch_of ring.removed) &&
	test "$E2" -gt "$E1" &&
	head -n 1 ring.removed | grep -q " 5 fixed\$" &&
	tokens_of ring.removed "${ID[V]}" >tokens.now &&
	test_cmp tokens.before tokens.now &&
	stat_is "$LEADER_ADDR" servers 5 && stat_is "$LEADER_ADDR" servers_active 4
'

# seen_over I MS: the leader last heard of chunk server I over MS ms ago.
seen_over () { ring ring.now && test "$(field ring.now "${ID[$1]}" 7)" -gt "$2"; }

test_expect_success 'a removed server is no longer checked: its misses stay at 5' '
	wait_for "seen_over $V 1500" &&
	test "$(field ring.now "${ID[V]}" 4)" = removed &&
	test "$(field ring.now "${ID[V]}" 6)" = 5
'

test_expect_success 'SIGCONT: it comes back healthy by itself, same id, same tokens' '
	resume_chunk $V &&
	wait_for "ring_is $V healthy" &&
	cp ring.now ring.back &&
	test "$(field ring.back "${ID[V]}" 6)" = 0 &&
	E3=$(epoch_of ring.back) &&
	test "$E3" -gt "$E2" &&
	tokens_of ring.back "${ID[V]}" >tokens.now &&
	test_cmp tokens.before tokens.now &&
	# nothing else changed: ids, addresses, states and all tokens
	ring_norm <ring.healthy >expect && ring_norm <ring.back >actual &&
	test_cmp expect actual &&
	printf "PING\r\n" | send "${CHUNK_ADDR[V]}" >out &&
	echo "PONG ${ID[V]}" >expect && test_cmp expect out &&
	wait_for "stat_is $LEADER_ADDR servers_active 5 2>/dev/null" &&
	stat_is "$LEADER_ADDR" servers 5
'

test_expect_success 'puts and gets work with the 5 servers' '
	wait_for all_healthy &&
	head -c 200000 /dev/urandom >f1 &&
	gfs put f1 f1 &&
	gfs get f1 | cmp - f1
'

test_expect_success 'leader restart: ids, tokens and states come back from Berkeley DB' '
	wait_for all_healthy &&
	cp ring.now ring.before &&
	Eb=$(epoch_of ring.before) &&
	pids_before="${CHUNK_PID[*]}" &&
	restart_leader &&
	ring ring.after &&
	test "$(epoch_of ring.after)" -ge "$Eb" &&
	ring_norm <ring.before >expect && ring_norm <ring.after >actual &&
	test_cmp expect actual
'

test_expect_success 'after the leader restart the chunk servers carry on: put and get work' '
	test "${CHUNK_PID[*]}" = "$pids_before" &&
	gfs get f1 | cmp - f1 &&
	head -c 300000 /dev/urandom >f2 &&
	gfs put f2 f2 &&
	gfs get f2 | cmp - f2 &&
	wait_for all_healthy &&
	test "$(epoch_of ring.now)" -ge "$Eb"
'

V=4

test_expect_success 'a removed server stays removed across a leader restart' '
	wait_for all_healthy &&
	cp ring.now ring.healthy &&
	tokens_of ring.healthy "${ID[V]}" >tokens.before &&
	pause_chunk $V &&
	wait_for "ring_is $V removed" &&
	E=$(epoch_of ring.now) &&
	restart_leader &&
	ring ring.after &&
	test "$(field ring.after "${ID[V]}" 4)" = removed &&
	test "$(epoch_of ring.after)" -ge "$E" &&
	tokens_of ring.after "${ID[V]}" >tokens.now &&
	test_cmp tokens.before tokens.now &&
	stat_is "$LEADER_ADDR" servers 5 && stat_is "$LEADER_ADDR" servers_active 4
'

test_expect_success '... and comes back with its tokens when it says HELLO again' '
	resume_chunk $V &&
	wait_for "ring_is $V healthy" &&
	test "$(epoch_of ring.now)" -gt "$E" &&
	wait_for all_healthy &&
	ring_norm <ring.healthy >expect && ring_norm <ring.now >actual &&
	test_cmp expect actual &&
	gfs get f1 | cmp - f1 && gfs get f2 | cmp - f2
'

test_expect_success 'a chunk server restarted with the same data dir keeps its id and tokens' '
	wait_for all_healthy &&
	cp ring.now ring.before &&
	restart_chunk 2 &&
	printf "PING\r\n" | send "${CHUNK_ADDR[2]}" >out &&
	echo "PONG ${ID[2]}" >expect && test_cmp expect out &&
	wait_for all_healthy &&
	ring_norm <ring.before >expect && ring_norm <ring.now >actual &&
	test_cmp expect actual &&
	stat_is "$LEADER_ADDR" servers 5
'

test_expect_success 'one restarted on another port keeps its id and tokens, at the new address' '
	wait_for all_healthy &&
	cp ring.now ring.before &&
	old=${CHUNK_ADDR[5]} &&
	stop_chunk 5 &&
	CHUNK_ADDR[5]= &&
	start_chunk 5 $CHUNK_FLAGS &&
	test "${CHUNK_ADDR[5]}" != "$old" &&
	wait_for "ring_is 5 healthy" &&
	wait_for all_healthy &&
	ring_norm <ring.before | sed "s/ $old / ${CHUNK_ADDR[5]} /" >expect &&
	ring_norm <ring.now >actual &&
	test_cmp expect actual &&
	stat_is "$LEADER_ADDR" servers 5 &&
	gfs get f1 | cmp - f1 && gfs get f2 | cmp - f2
'

test_expect_success 'the ring is as balanced as before' '
	wait_for all_healthy &&
	balance ring.now
'

# EXPECTED TO FAIL until the leader is fixed.  A server's unhealthy state
# is not stored (only removed is), so a restarted leader has every other
# server healthy again, but it keeps the stored epoch: the epoch a client
# holds, at which the server was unhealthy, now names another ring, and
# the client never fetches the ring again (LOOKUP gives the same epoch):
# it goes on skipping a healthy server for writes.  The same epoch must
# mean the same ring: the leader should move the epoch on when it starts
# (or store the unhealthy state).
V=1

test_expect_success 'a leader restarted while a server is unhealthy does not reuse the epoch' '
	stop_leader &&
	start_leader --health-interval 100ms --remove-after 1000000 &&
	wait_for all_healthy &&
	pause_chunk $V &&
	wait_for "ring_is $V unhealthy" &&
	Eu=$(epoch_of ring.now) &&
	stop_leader &&
	resume_chunk $V &&
	start_leader --health-interval 100ms --remove-after 1000000 &&
	ring ring.after &&
	Ea=$(epoch_of ring.after) &&
	st=$(field ring.after "${ID[V]}" 4) &&
	{ test "$Ea" -gt "$Eu" || test "$st" = unhealthy ||
	  { echo >&2 "epoch $Eu had ${ID[V]} unhealthy, epoch $Ea has it $st"; false; }; }
'

# EXPECTED TO FAIL until the leader is fixed.  member.c keeps one struct
# probe per server in an array that grow_tables() reallocates when a new
# server joins, but each health check in flight has &probes[s] as the
# argument of its bufferevent callbacks.  A join while a check is in
# flight leaves that pointer dangling; when the answer comes back,
# probe_read_cb() reads p->server from freed memory (for the first server
# glibc has written its own data there: the leader dies in strcmp() at
# member.c:229), and probe_done() frees p->bev while the new array still
# holds it, so the next health tick, or the shutdown, frees it again.
# Here: the first server of the leader's table (the lowest id after a
# restart) is paused, so its check stays in flight; 20 new servers join;
# it is resumed and answers.  Health checks every 2 s leave time for all
# of that within one interval.  Then one more health tick, and SIGTERM:
# the leader must still answer, and exit 0.

# ticked: the leader has checked joiner-20 (at a port where nobody
# listens) at least once since it joined.
ticked () { ring ring.now && test "$(field ring.now joiner-20 6)" -ge 1; }

test_expect_success 'servers joining while a health check is in flight do not crash the leader' '
	stop_leader &&
	start_leader --health-interval 2s --remove-after 1000000 &&
	wait_for all_healthy &&
	first=$(awk "\$1 == \"SERVER\" { print \$2; exit }" ring.now) &&
	V=$(for i in $(seq $N); do echo "$i ${ID[i]}"; done |
		awk -v id="$first" "\$2 == id { print \$1 }") &&
	test -n "$V" &&
	pause_chunk $V &&
	wait_for "ring_is $V unhealthy" 10 &&
	for i in $(seq 20); do
		printf "HELLO joiner-%s 127.0.0.1:%s\r\n" $i $((20000 + i))
	done | send "$LEADER_ADDR" >out &&
	test "$(grep -c "^OK " out)" = 20 &&
	resume_chunk $V &&
	{ wait_for "ring_is $V healthy" 5 && wait_for ticked 10 && leader_alive
	  ok=$?; } &&
	if test $ok != 0; then
		echo >&2 "the leader died; last log lines:"
		tail -n 3 "$TRASH/leader.log" >&2
	fi &&
	stop_leader && test $ok = 0
'

test_expect_success 'the servers stop cleanly on SIGTERM' '
	stop_cluster
'

test_done
