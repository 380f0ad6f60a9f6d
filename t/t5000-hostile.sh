#!/bin/bash
test_description='hostile input, slow and vanishing clients, on both servers'
. "$(dirname "$0")/test-lib.sh"
. "$GFS_ROOT/t/lib-proto.sh"

# xs N: N bytes of 'X'.
xs () { head -c "$1" /dev/zero | tr '\0' X; }

# tokens N WORD: N-1 copies of " WORD": after a verb, a line of N tokens.
tokens () {
	local i
	for ((i = 1; i < $1; i++)); do printf ' %s' "$2"; done
}

# open_conn VAR ADDR: open a connection the script holds in fd $VAR.
open_conn () {
	local _fd
	exec {_fd}<>"/dev/tcp/${2%:*}/${2##*:}" || return 1
	printf -v "$1" %s "$_fd"
}

# reply_on FD: one reply line read from FD (5 s at most), CR dropped.
reply_on () {
	local line
	IFS= read -r -t 5 line <&"$1" || { echo >&2 "no reply on fd $1"; return 1; }
	printf '%s\n' "${line%$'\r'}"
}

# conns ADDR: the connections the server at ADDR has open (its STATS
# "connections", not in gfs-protocol(7): the tests use it to see that
# closed and abandoned connections are freed).
conns () { _stats "$1" | json_num connections; }

# answers ADDR REPLY...: a PING to ADDR on a new connection gets REPLY.
answers () { test "$(printf 'PING\r\n' | send "$1")" = "${*:2}"; }

# served: every server answers PING on a new connection, and a 200 KB
# file goes through gfs put and gfs get byte-identical.
served () {
	local i
	printf "PING\r\n" | send "$L" >served.out &&
	echo "PONG leader" >served.exp &&
	for i in 1 2 3; do
		printf "PING\r\n" | send "${CHUNK_ADDR[i]}" >>served.out &&
		echo "PONG ${ID[i]}" >>served.exp || return 1
	done &&
	test_cmp served.exp served.out &&
	served_n=$((served_n + 1)) &&
	gfs put big.dat "big/$served_n" &&
	rm -f big.got && gfs get "big/$served_n" -o big.got && cmp big.dat big.got
}
served_n=0

declare -A IDLE=()
declare -a MANY=()
HELLO=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824

test_expect_success 'set-up: leader, three chunk servers, a 200 KB file' '
	start_cluster 3 &&
	L=$LEADER_ADDR C=${CHUNK_ADDR[1]} &&
	for i in 1 2 3; do
		ID[i]=$(printf "PING\r\n" | send "${CHUNK_ADDR[i]}" |
			sed -n "s/^PONG //p") || break
	done &&
	test -n "${ID[3]}" &&
	head -c 204800 /dev/urandom >big.dat &&
	test "$(hash_str hello)" = $HELLO &&
	served
'

test_expect_success 'clients that stall: half a line, half a block, missing hashes' '
	open_conn STALL_L "$L" && printf "PIN" >&$STALL_L &&
	open_conn STALL_C "$C" && printf "PI" >&$STALL_C &&
	open_conn STALL_CD "$C" &&
	printf "PUT_PENDING tx-stall %s 5\r\nhel" $HELLO >&$STALL_CD &&
	open_conn STALL_LH "$L" &&
	printf "PUT_PENDING tx-stall stalled 5 1\r\n%s" "${HELLO:0:30}" >&$STALL_LH &&
	served
'

test_expect_success 'a byte-at-a-time client (in the background)' '
	head -c 1024 big.dat >slow.dat &&
	{ put_req tx-slow slow.dat && printf "COMMIT tx-slow\r\n"; } >slow.req &&
	{ gfs-raw -s -t 20000 "$C" <slow.req >slow.out 2>&1 & } &&
	SLOW_PID=$! &&
	served
'

# target leader|chunk: set addr and pong (its answer to PING).
target () {
	case $1 in
	leader) addr=$L pong="PONG leader" ;;
	chunk) addr=$C pong="PONG ${ID[1]}" ;;
	esac
}

for who in leader chunk; do

test_expect_success "$who: a line of exactly 16384 bytes is read" '
	target $who &&
	{ xs 16382 && printf "\r\nPING%16378s\r\nPING\r\n" ""; } >req &&
	test "$(head -n 1 req | wc -c)" = 16384 &&
	test "$(sed -n 2p req | wc -c)" = 16384 &&
	send "$addr" <req >out &&
	printf "%s\n" "ERROR UNKNOWN_COMMAND" "$pong" "$pong" >expect &&
	test_cmp expect out
'

test_expect_success "$who: a line of 16385 bytes: LINE_TOO_LONG and a close" '
	target $who &&
	{ xs 16383 && printf "\r\nPING\r\n"; } >req &&
	server_closes "$addr" <req >out &&
	echo "ERROR LINE_TOO_LONG" >expect && test_cmp expect out &&
	# the server does not wait for the end of an over-long line
	{ xs 20000; } | server_closes "$addr" >out &&
	test_cmp expect out &&
	# nor take a long pipelined tail for one line
	{ printf "PING\r\n" && xs 16383 && printf "\r\nPING\r\n"; } |
		server_closes "$addr" >out &&
	printf "%s\n" "$pong" "ERROR LINE_TOO_LONG" >expect && test_cmp expect out
'

test_expect_success "$who: a line of 16384 bytes ending in a bare LF is read" '
	target $who &&
	{ xs 16383 && printf "\nPING\n"; } >req &&
	send "$addr" <req >out &&
	printf "%s\n" "ERROR UNKNOWN_COMMAND" "$pong" >expect &&
	test_cmp expect out
'

test_expect_success "$who: unknown and lower-case verbs: UNKNOWN_COMMAND" '
	target $who &&
	printf "%s\r\n" FOO ping Ping pIng "PING$(printf "\001")" "P ING" \
		"get_batch $HELLO" "put_pending tx x 0" "lookup x" stats quit \
		"$(printf "\t")PING" PING >req &&
	send "$addr" <req >out &&
	for i in $(seq 12); do echo "ERROR UNKNOWN_COMMAND"; done >expect &&
	echo "$pong" >>expect &&
	test_cmp expect out
'

test_expect_success "$who: NUL bytes in a line: an error, the connection goes on" '
	target $who &&
	printf "PI\000NG\r\n\000\r\nPING \000\r\nPING\r\n" | send "$addr" >out &&
	test "$(wc -l <out)" = 4 &&
	! head -n 3 out | grep -v "^ERROR [A-Z_]*\$" &&
	tail -n 1 out >actual && echo "$pong" >expect && test_cmp expect actual
'

test_expect_success "$who: 300 tokens: BAD_ARGS, the connection goes on" '
	target $who &&
	{ printf PING && tokens 300 a && printf "\r\nPING" && tokens 256 "" &&
	  printf "\r\nPING\r\n"; } | send "$addr" >out &&
	printf "%s\n" "ERROR BAD_ARGS" "$pong" "$pong" >expect &&
	test_cmp expect out
'

test_expect_success "$who: wrong arity of PING and STATS: BAD_ARGS" '
	target $who &&
	printf "PING x\r\nSTATS x\r\nPING x y\r\nPING\r\n" | send "$addr" >out &&
	printf "%s\n" "ERROR BAD_ARGS" "ERROR BAD_ARGS" "ERROR BAD_ARGS" \
		"$pong" >expect &&
	test_cmp expect out &&
	served
'

done

test_expect_success 'chunk: unknown verbs include the leader'"'"'s' '
	printf "%s\r\n" "HELLO 0123456789abcdef 127.0.0.1:9" RING "LOOKUP x" \
		LIST "DELETE x" PING | send "$C" >out &&
	for i in 1 2 3 4 5; do echo "ERROR UNKNOWN_COMMAND"; done >expect &&
	echo "PONG ${ID[1]}" >>expect &&
	test_cmp expect out
'

test_expect_success 'leader: unknown verbs include the chunk server'"'"'s' '
	printf "%s\r\n" "GET_BATCH $HELLO" "HAS_BATCH $HELLO" \
		"DELETE_BATCH $HELLO" PING | send "$L" >out &&
	printf "%s\n" "ERROR UNKNOWN_COMMAND" "ERROR UNKNOWN_COMMAND" \
		"ERROR UNKNOWN_COMMAND" "PONG leader" >expect &&
	test_cmp expect out
'

test_expect_success 'chunk: wrong arity: BAD_ARGS' '
	many=$(tokens 252 $HELLO) &&
	printf "%s\r\n" COMMIT "COMMIT a 1 2 d" ABORT "ABORT a b" GET_BATCH \
		HAS_BATCH DELETE_BATCH "GET_BATCH$many" "HAS_BATCH$many" \
		"DELETE_BATCH 1$many" PING | send "$C" >out &&
	for i in $(seq 10); do echo "ERROR BAD_ARGS"; done >expect &&
	echo "PONG ${ID[1]}" >>expect &&
	test_cmp expect out
'

test_expect_success 'leader: wrong arity: BAD_ARGS' '
	printf "%s\r\n" HELLO "HELLO a" "RING x" LOOKUP "LOOKUP a b" COMMIT \
		"COMMIT a b" ABORT "ABORT a b" "LIST a b" DELETE "DELETE a b" \
		PING | send "$L" >out &&
	for i in $(seq 12); do echo "ERROR BAD_ARGS"; done >expect &&
	echo "PONG leader" >>expect &&
	test_cmp expect out
'

test_expect_success 'chunk: PUT_PENDING with wrong arity: BAD_ARGS and a close' '
	for req in "PUT_PENDING tx-a $HELLO" "PUT_PENDING tx-a $HELLO 5 x" \
		"PUT_PENDING tx-a" PUT_PENDING
	do
		printf "%s\r\nhello\r\nPING\r\n" "$req" | server_closes "$C" >out &&
		echo "ERROR BAD_ARGS" >expect && test_cmp expect out || break
	done &&
	stat_is "$C" pending 0
'

test_expect_success 'chunk: PUT_PENDING of 300 tokens: BAD_ARGS and a close' '
	# The block cannot be skipped, so it must not be run as a command.
	{ printf "PUT_PENDING tx-a %s 4" $HELLO && tokens 297 x &&
	  printf "\r\nPING\r\n"; } | server_closes "$C" >out &&
	echo "ERROR BAD_ARGS" >expect && test_cmp expect out
'

test_expect_success 'leader: PUT_PENDING with wrong arity: BAD_ARGS and a close' '
	for req in "PUT_PENDING tx-a name 5" "PUT_PENDING tx-a name 5 1 x" \
		"PUT_PENDING tx-a name" PUT_PENDING
	do
		printf "%s\r\nPING\r\nPING\r\n" "$req" | server_closes "$L" >out &&
		echo "ERROR BAD_ARGS" >expect && test_cmp expect out || break
	done
'

test_expect_success 'leader: PUT_PENDING of 300 tokens: BAD_ARGS and a close' '
	# The hash lines cannot be skipped, so they must not be run as commands.
	{ printf "PUT_PENDING tx-a name 1024 1" && tokens 296 x &&
	  printf "\r\n%s\r\nPING\r\n" $HELLO; } | server_closes "$L" >out &&
	echo "ERROR BAD_ARGS" >expect && test_cmp expect out
'

test_expect_success 'malformed txids: BAD_ARGS after the block or lines' '
	tx65=$(printf "%065d" 0) &&
	for tx in "bad!tx" "$tx65" "tx.1" "tx/1"; do
		printf "PUT_PENDING %s %s 5\r\nhello\r\n" "$tx" $HELLO || break
	done >req &&
	printf "PING\r\n" >>req &&
	send "$C" <req >out &&
	for i in 1 2 3 4; do echo "ERROR BAD_ARGS"; done >expect &&
	echo "PONG ${ID[1]}" >>expect &&
	test_cmp expect out &&
	for tx in "bad!tx" "$tx65" "tx.1" "tx/1"; do
		printf "PUT_PENDING %s name 5 1\r\n%s\r\n" "$tx" $HELLO || break
	done >req &&
	printf "PING\r\n" >>req &&
	send "$L" <req >out &&
	for i in 1 2 3 4; do echo "ERROR BAD_ARGS"; done >expect &&
	echo "PONG leader" >>expect &&
	test_cmp expect out &&
	stat_is "$C" pending 0
'

BAD_NUMBERS='-1 +1 1x 0x5 99999999999999999999999 18446744073709551616 5.0 1e3'

test_expect_success 'chunk: PUT_PENDING length not a number: BAD_NUMBER, close' '
	for n in $BAD_NUMBERS; do
		printf "PUT_PENDING tx-n %s %s\r\nhello\r\nPING\r\n" $HELLO "$n" |
			server_closes "$C" >out &&
		echo "ERROR BAD_NUMBER" >expect && test_cmp expect out || break
	done &&
	stat_is "$C" pending 0
'

test_expect_success 'chunk: PUT_PENDING length over 4096: TOO_LARGE, close' '
	for n in 4097 4294967296 18446744073709551615; do
		printf "PUT_PENDING tx-n %s %s\r\nhello\r\nPING\r\n" $HELLO "$n" |
			server_closes "$C" >out &&
		echo "ERROR TOO_LARGE" >expect && test_cmp expect out || break
	done
'

test_expect_success 'leader: PUT_PENDING size not a number: BAD_NUMBER' '
	for n in $BAD_NUMBERS; do
		printf "PUT_PENDING tx-n name %s 0\r\n" "$n" || break
	done >req &&
	printf "PING\r\nCOMMIT tx-n\r\n" >>req &&
	send "$L" <req >out &&
	for i in $(seq 8); do echo "ERROR BAD_NUMBER"; done >expect &&
	printf "PONG leader\nERROR NOT_FOUND\n" >>expect &&
	test_cmp expect out
'

test_expect_success 'leader: PUT_PENDING nchunks not a number: BAD_NUMBER, close' '
	for n in $BAD_NUMBERS; do
		printf "PUT_PENDING tx-n name 5 %s\r\n%s\r\nPING\r\n" "$n" $HELLO |
			server_closes "$L" >out &&
		echo "ERROR BAD_NUMBER" >expect && test_cmp expect out || break
	done
'

test_expect_success 'leader: PUT_PENDING nchunks over 1048576: TOO_LARGE, close' '
	printf "PUT_PENDING tx-n name 1073741825 1048577\r\n%s\r\nPING\r\n" $HELLO |
		server_closes "$L" >out &&
	echo "ERROR TOO_LARGE" >expect && test_cmp expect out
'

test_expect_success 'leader: LOOKUP version not a number: BAD_NUMBER' '
	for n in $BAD_NUMBERS; do
		printf "LOOKUP big/1@%s\r\n" "$n" || break
	done >req &&
	printf "PING\r\n" >>req &&
	send "$L" <req >out &&
	for i in $(seq 8); do echo "ERROR BAD_NUMBER"; done >expect &&
	echo "PONG leader" >>expect &&
	test_cmp expect out
'

BAD_HASHES="${HELLO%?} ${HELLO}0 $(echo $HELLO | tr a-f A-F) ${HELLO%?}g
${HELLO%?}- x"

test_expect_success 'chunk: bad hashes: BAD_HASH, the connection goes on' '
	for h in $BAD_HASHES; do
		printf "PUT_PENDING tx-h %s 5\r\nhello\r\n" "$h" &&
		printf "%s %s %s\r\n" GET_BATCH "$HELLO" "$h" HAS_BATCH "$h" "$HELLO" \
			"DELETE_BATCH 1" "$h" "$h" || break
	done >req &&
	printf "PING\r\nCOMMIT tx-h\r\n" >>req &&
	send "$C" <req >out &&
	for i in $(seq 24); do echo "ERROR BAD_HASH"; done >expect &&
	printf "PONG %s\nERROR NOT_FOUND\n" "${ID[1]}" >>expect &&
	test_cmp expect out &&
	stat_is "$C" pending 0
'

test_expect_success 'leader: bad hash lines: BAD_HASH after all lines' '
	for h in $BAD_HASHES; do
		printf "PUT_PENDING tx-h name 2048 2\r\n%s\r\n%s\r\n" "$h" $HELLO ||
			break
	done >req &&
	printf "PUT_PENDING tx-h name 1024 1\r\nab\000cd\r\n" >>req &&
	printf "PING\r\nCOMMIT tx-h\r\n" >>req &&
	send "$L" <req >out &&
	for i in $(seq 7); do echo "ERROR BAD_HASH"; done >expect &&
	printf "PONG leader\nERROR NOT_FOUND\n" >>expect &&
	test_cmp expect out
'

test_expect_success 'leader: control bytes in a name: BAD_NAME' '
	printf "LOOKUP a\001b\r\nLOOKUP a\177b\r\nDELETE a\033b\r\nPING\r\n" |
		send "$L" >out &&
	printf "%s\n" "ERROR BAD_NAME" "ERROR BAD_NAME" "ERROR BAD_NAME" \
		"PONG leader" >expect &&
	test_cmp expect out
'

test_expect_success 'chunk: a block without its CRLF: BAD_DATA and a close' '
	for req in "hello--PING\r\n" "hello\nPING\r\n" "hello\r\r\nPING\r\n" \
		"hello\000\000PING\r\n"
	do
		printf "PUT_PENDING tx-d %s 5\r\n$req" $HELLO |
			server_closes "$C" >out &&
		echo "ERROR BAD_DATA" >expect && test_cmp expect out || break
	done &&
	# a length shorter or longer than the block
	printf "PUT_PENDING tx-d %s 4\r\nhello\r\nPING\r\n" $HELLO |
		server_closes "$C" >out && test_cmp expect out &&
	printf "PUT_PENDING tx-d %s 6\r\nhello\r\nPING\r\n" $HELLO |
		server_closes "$C" >out && test_cmp expect out &&
	printf "COMMIT tx-d\r\n" | send "$C" >out &&
	echo "ERROR NOT_FOUND" >expect && test_cmp expect out &&
	stat_is "$C" pending 0
'

test_expect_success 'clients that vanish mid-block or mid-lines leave nothing' '
	c0=$(conns "$C") && l0=$(conns "$L") &&
	open_conn V "$C" &&
	printf "PUT_PENDING tx-v %s 1024\r\n" "$(hash_of slow.dat)" >&$V &&
	head -c 500 slow.dat >&$V &&
	open_conn W "$L" &&
	printf "PUT_PENDING tx-w vanished 3072 3\r\n%s\r\n" $HELLO $HELLO >&$W &&
	wait_for "test \$(conns \"\$C\") = \$((c0 + 1))" &&
	wait_for "test \$(conns \"\$L\") = \$((l0 + 1))" &&
	exec {V}>&- {W}>&- &&
	wait_for "test \$(conns \"\$C\") = \$c0" &&
	wait_for "test \$(conns \"\$L\") = \$l0" &&
	stat_is "$C" pending 0 &&
	printf "COMMIT tx-v\r\n" | send "$C" >out &&
	printf "COMMIT tx-w\r\nLOOKUP vanished\r\n" | send "$L" >>out &&
	printf "ERROR NOT_FOUND\nERROR NOT_FOUND\nERROR NOT_FOUND\n" >expect &&
	test_cmp expect out &&
	served
'

test_expect_success 'the byte-at-a-time client was served' '
	wait $SLOW_PID &&
	printf "STORED\r\nOK 1\r\n" >expect && test_cmp expect slow.out
'

test_expect_success '300 idle connections to each server at once' '
	for a in "$L" "${CHUNK_ADDR[@]}"; do
		base=$(conns "$a") &&
		for i in $(seq 300); do
			open_conn fd "$a" && IDLE[$fd]=$a || break
		done &&
		wait_for "test \$(conns \"\$a\") -ge \$((base + 300))" || break
	done &&
	test ${#IDLE[@]} = 1200 &&
	served
'

test_expect_success 'closed idle connections are freed' '
	for fd in "${!IDLE[@]}"; do exec {fd}>&-; done &&
	IDLE=() &&
	for a in "$L" "${CHUNK_ADDR[@]}"; do
		wait_for "test \$(conns \"\$a\") -le 5" || break
	done &&
	served
'

test_expect_success 'connection 1025 gets ERROR BUSY; a freed slot is reused' '
	a=${CHUNK_ADDR[3]} &&
	base=$(conns "$a") &&
	for i in $(seq $((1025 - base))); do
		open_conn fd "$a" && MANY+=("$fd") || break
	done &&
	test ${#MANY[@]} = $((1025 - base)) &&
	wait_for "answers \$a ERROR BUSY" &&
	fd=${MANY[0]} && exec {fd}>&- &&
	wait_for "answers \$a PONG \${ID[3]}" &&
	for fd in "${MANY[@]:1}"; do exec {fd}>&-; done &&
	MANY=() &&
	wait_for "test \$(conns \"\$a\") -le 5" &&
	served
'

test_expect_success 'the stalled clients are still served when they go on' '
	printf "G\r\n" >&$STALL_L && reply_on $STALL_L >out &&
	printf "NG\r\n" >&$STALL_C && reply_on $STALL_C >>out &&
	printf "lo\r\nCOMMIT tx-stall\r\n" >&$STALL_CD &&
	reply_on $STALL_CD >>out && reply_on $STALL_CD >>out &&
	printf "%s\r\nCOMMIT tx-stall\r\n" "${HELLO:30}" >&$STALL_LH &&
	reply_on $STALL_LH >>out && reply_on $STALL_LH >>out &&
	ep=$(printf "RING\r\n" | send "$L" | sed -n "1s/^RING \([0-9]*\) .*/\1/p") &&
	printf "%s\n" "PONG leader" "PONG ${ID[1]}" STORED "OK 1" "OK 0 $ep" "OK 1" \
		>expect &&
	test_cmp expect out &&
	exec {STALL_L}>&- {STALL_C}>&- {STALL_CD}>&- {STALL_LH}>&-
'

test_expect_success 'every server is still alive and serving' '
	kill -0 "$LEADER_PID" "${CHUNK_PID[1]}" "${CHUNK_PID[2]}" "${CHUNK_PID[3]}" &&
	served &&
	for n in $(seq $served_n); do
		rm -f big.got && gfs get "big/$n" -o big.got && cmp big.dat big.got ||
			break
	done
'

test_expect_success 'the servers exit 0 on SIGTERM' '
	stop_cluster
'

test_done
