#!/bin/bash
test_description='writes prefer healthy servers, but use unhealthy ones that answer'
. "$(dirname "$0")/test-lib.sh"

# Two chunk servers, two copies of every chunk: a put needs both.
# Server 2 announces the address of proxy c2; with the proxy delaying
# each way by 700 ms, the leader's checks (every 1 s, answered within
# the interval) all miss and it stays unhealthy, while a client with a
# longer --timeout is answered well.  Server 2 sends HELLO only at
# start, so that nothing makes it healthy between checks.

# state2: server 2's state in the leader's RING
state2 () {
	printf 'RING\r\nQUIT\r\n' | gfs-raw -t 2000 "$LEADER_ADDR" | tr -d '\r' |
		awk -v a="${PROXY_ADDR[c2]}" '$1 == "SERVER" && $3 == a { print $4 }'
}

test_expect_success 'two servers, the second behind a proxy' '
	LEADER_FLAGS="--health-interval 1s --remove-after 1000" \
		start_cluster 2 &&
	start_proxy c2 "${CHUNK_ADDR[2]}" &&
	stop_chunk 2 &&
	start_chunk 2 --hello-interval 1h --advertise "${PROXY_ADDR[c2]}" &&
	wait_for "test \"\$(state2)\" = healthy" 10 &&
	head -c 5000 /dev/urandom >f0 && gfs put f0 &&
	gfs get f0 | cmp - f0
'

test_expect_success 'slow past the health check: the leader finds it unhealthy' '
	proxy_mode c2 delay 700 &&
	wait_for "test \"\$(state2)\" = unhealthy" 15 &&
	test_expect_code 3 gfs status >status.out &&
	grep "${PROXY_ADDR[c2]} .*unhealthy" status.out
'

test_expect_success 'a put with too few healthy servers goes to the unhealthy one' '
	c0=$(chunk_stats 2 | json_num chunks) &&
	head -c 3000 /dev/urandom >f1 &&
	gfs --timeout 10s put f1 &&
	test "$(state2)" = unhealthy &&
	test "$(chunk_stats 2 | json_num chunks)" -ge $((c0 + 3)) &&
	gfs --timeout 10s get f1 | cmp - f1 &&
	gfs --timeout 10s get f0 | cmp - f0
'

test_expect_success 'not answering at all: the put fails, saying why' '
	proxy_mode c2 reset &&
	head -c 3000 /dev/urandom >f2 &&
	test_expect_code 3 gfs --timeout 2s put f2 2>err &&
	grep "need 2 reachable chunk servers" err &&
	test_expect_code 1 gfs get f2
'

test_expect_success 'servers and proxy stop cleanly' '
	proxy_mode c2 pass &&
	stop_cluster
'

test_done
