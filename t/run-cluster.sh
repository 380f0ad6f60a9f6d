#!/usr/bin/env bash
# make run: the seed's topology on 127.0.0.1 in the foreground.
# Leader on 8000, chunk servers on 8100..8104, data under ./var.
# Ctrl-C (or SIGTERM) stops all of them.
set -u
cd "$(dirname "$0")/.."
bin=$PWD/bin
var=${GFS_VAR:-$PWD/var}
mkdir -p "$var"
pids=()

stop() {
	trap - INT TERM EXIT
	echo "stopping"
	[ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
	wait
	exit 0
}
trap stop INT TERM EXIT

# Start one server and wait for its "ready" line.
start() {
	local name=$1; shift
	local fifo
	fifo=$(mktemp -u "$var/.ready.XXXXXX")
	mkfifo "$fifo"
	"$@" >"$fifo" &
	pids+=($!)
	local line
	if ! read -r -t 30 line <"$fifo" || [ "${line%% *}" != ready ]; then
		rm -f "$fifo"
		echo "$name did not start; see its log above" >&2
		exit 1
	fi
	rm -f "$fifo"
	echo "$name $line"
}

start leader "$bin/gfs-leader" --listen 127.0.0.1:8000 --data "$var/leader"
for i in 0 1 2 3 4; do
	start chunk$i "$bin/gfs-chunkd" --listen 127.0.0.1:810$i \
	    --data "$var/chunk$i" --leader 127.0.0.1:8000
done
echo "cluster up: try 'bin/gfs status' in another shell; Ctrl-C stops it"
wait
