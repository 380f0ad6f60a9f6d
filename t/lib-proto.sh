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
