# t/lib-proto.sh: helpers for the protocol tests (t1*, t2*, t5*), sourced
# after test-lib.sh.  They speak gfs-protocol(7) by hand with gfs-raw.
# shellcheck shell=bash

# raw ADDR: send stdin, half-close, print the exact reply.
raw () { gfs-raw -t 5000 "$1"; }

# send ADDR: like raw, but with CRs dropped and each ERROR line cut to its
# code (the message is free text), for replies without data blocks.
send () {
	gfs-raw -t 5000 "$1" | tr -d '\r' | sed -E 's/^(ERROR [A-Z_]+) .*/\1/'
}

# server_closes ADDR: send stdin without half-closing and print the reply
# as send does; succeeds only if the server closes the connection by
# itself, within 5 s.
server_closes () {
	timeout 5 gfs-raw -k -t 30000 "$1" | tr -d '\r' |
		sed -E 's/^(ERROR [A-Z_]+) .*/\1/'
	test "${PIPESTATUS[0]}" = 0 ||
		{ echo >&2 "server_closes: $1 kept the connection open"; return 1; }
}

hash_of () { sha256sum <"$1" | cut -c1-64; }
size_of () { wc -c <"$1" | tr -d ' '; }
hash_str () { printf '%s' "$1" | sha256sum | cut -c1-64; }

# put_req TXID FILE [HASH]: a chunk server PUT_PENDING with FILE as block.
put_req () {
	local h=${3:-$(hash_of "$2")}
	printf 'PUT_PENDING %s %s %s\r\n' "$1" "$h" "$(size_of "$2")" &&
	cat "$2" && printf '\r\n'
}

# value_of FILE: the chunk server's VALUE reply for FILE.
value_of () {
	printf 'VALUE %s %s\r\n' "$(hash_of "$1")" "$(size_of "$1")" &&
	cat "$1" && printf '\r\n'
}

# stat_is ADDR KEY VALUE: the STATS of ADDR has "KEY":VALUE.
stat_is () {
	local got
	got=$(_stats "$1" | json_num "$2")
	test "$got" = "$3" && return 0
	echo >&2 "STATS of $1: \"$2\" is '$got', want '$3'"
	return 1
}

# json_object FILE KEY...: FILE holds one JSON object with members KEY...
# (checked with jq where it is installed, else by their "KEY": text).
json_object () {
	local f=$1 k; shift
	if command -v jq >/dev/null; then
		jq -e 'type == "object"' "$f" >/dev/null || return 1
		for k; do
			jq -e --arg k "$k" 'has($k)' "$f" >/dev/null ||
				{ echo >&2 "no \"$k\" in $(cat "$f")"; return 1; }
		done
	else
		grep -q '^{.*}$' "$f" || return 1
		for k; do
			grep -q "[{,]\"$k\":" "$f" ||
				{ echo >&2 "no \"$k\" in $(cat "$f")"; return 1; }
		done
	fi
}

# ring_check: check the RING reply on stdin (CRs dropped, as send prints
# it) against gfs-protocol(7): the RING line; for each of its nservers
# servers a SERVER line (a new id, a known state, misses 0 when healthy)
# followed by TOKENS lines holding ntokens tokens in all, 128 a line but
# the last, each 16 lower-case hexadecimal digits, none seen before in
# the reply; then END, the last line.  Says what is wrong on stderr.
ring_check () {
	awk '
	function num(x) { return x ~ /^[0-9]+$/ }
	function bad(why) {
		printf "RING reply line %d: %s: %s\n", NR, why, $0 >"/dev/stderr"
		err = 1
		exit 1
	}
	NR == 1 {
		if (NF != 5 || $1 != "RING" || !num($2) || !num($3) ||
		    !num($4) || ($5 != "fixed" && $5 != "cdc"))
			bad("not a RING line")
		n = $4 + 0
		next
	}
	done { bad("a line after END") }
	left > 0 {
		k = NF - 1
		if ($1 != "TOKENS" || k < 1 || k > 128)
			bad("not a TOKENS line of 1 to 128 tokens")
		if (k > left || (k < 128 && k != left))
			bad("TOKENS: " k " tokens, " left " still due")
		for (i = 2; i <= NF; i++) {
			if (length($i) != 16 || $i ~ /[^0-9a-f]/)
				bad("bad token \"" $i "\"")
			if ($i in tok)
				bad("token " $i " listed twice")
			tok[$i] = 1
		}
		left -= k
		next
	}
	servers < n {
		if (NF != 7 || $1 != "SERVER")
			bad("not a SERVER line of 7 fields")
		if ($2 in ids)
			bad("server " $2 " listed twice")
		ids[$2] = 1
		if ($4 != "healthy" && $4 != "unhealthy" && $4 != "removed")
			bad("bad state")
		if (!num($5) || $5 < 1 || $5 > 1024 || !num($6) || !num($7))
			bad("bad number")
		if ($4 == "healthy" && $6 != 0)
			bad("healthy with misses")
		servers++
		left = $5 + 0
		next
	}
	$0 == "END" { done = 1; next }
	{ bad("END expected") }
	END {
		if (!err && !done) {
			printf "RING reply ends early (%d lines)\n", NR >"/dev/stderr"
			exit 1
		}
	}'
}

# ring_norm: the RING reply on stdin (as send prints it) as one line per
# server, sorted: "id addr state ntokens misses token...", tokens in the
# order listed; the epoch and the milliseconds since last seen left out.
ring_norm () {
	awk '
	$1 == "SERVER" { if (line != "") print line; line = $2 " " $3 " " $4 " " $5 " " $6 }
	$1 == "TOKENS" { for (i = 2; i <= NF; i++) line = line " " $i }
	END { if (line != "") print line }' | LC_ALL=C sort
}

# ring_reply: the leader's RING reply as send prints it, checked.
ring_reply () {
	printf 'RING\r\n' | send "$LEADER_ADDR" >"$TRASH/.ring" &&
	ring_check <"$TRASH/.ring" && cat "$TRASH/.ring"
}
