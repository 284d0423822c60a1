#!/usr/bin/env bash
# Replication figures, sedis → sedis beside redis-server → redis-server in
# one run on this machine:
#   1. a full sync of 1M keys (DEBUG POPULATE), disk and diskless forms:
#      seconds from REPLICAOF until the replica's link is up with every key;
#   2. replication lag under redis-benchmark SET load at 50 clients: how
#      long a write on the master takes to be readable on the replica
#      (benches/repl_lag.py, a probe every 20 ms);
#   3. the master's SET throughput with one replica attached, as a ratio of
#      its throughput alone.
#
#   benches/replication.sh [KEYS] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
keys=${1:-1000000}
requests=${2:-300000}
cargo build --release -q
sedis=./target/release/sedis-server
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start() { # start KIND PORT [ARGS...]
  local kind=$1 port=$2; shift 2
  mkdir -p "$work/$port"
  if [ "$kind" = sedis ]; then
    "$sedis" --port "$port" --save "" --dir "$work/$port" --enable-debug-command yes "$@" \
      > "$work/$port/log" 2>&1 &
  else
    redis-server --port "$port" --save "" --dir "$work/$port" --enable-debug-command yes \
      --repl-diskless-sync-delay 0 "$@" > "$work/$port/log" 2>&1 &
  fi
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.05; done
}
stop() { # stop PORT: until nothing answers there
  redis-cli -p "$1" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  while redis-cli -p "$1" PING >/dev/null 2>&1; do sleep 0.05; done
}
next_port=17000
field() { redis-cli -p "$1" INFO replication | tr -d '\r' | sed -n "s/^$2://p"; }

full_sync() { # full_sync KIND DISKLESS
  local kind=$1 diskless=$2 m r
  next_port=$((next_port + 2)); m=$next_port; r=$((next_port - 1))
  start "$kind" $m --repl-diskless-sync "$diskless"
  redis-cli -p $m DEBUG POPULATE "$keys" >/dev/null
  start "$kind" $r
  local t0 t1
  t0=$(date +%s.%N)
  redis-cli -p $r REPLICAOF 127.0.0.1 $m >/dev/null
  until [ "$(field $r master_link_status)" = up ] && [ "$(redis-cli -p $r DBSIZE)" = "$keys" ]; do
    sleep 0.02
  done
  t1=$(date +%s.%N)
  echo "full sync $kind diskless=$diskless: $(echo "$t1 - $t0" | bc) s"
  stop $r; stop $m
}

load() { # load KIND WITH_REPLICA: throughput, and lag samples if replicated
  local kind=$1 replicated=$2 m r
  next_port=$((next_port + 2)); m=$next_port; r=$((next_port - 1))
  start "$kind" $m
  if [ "$replicated" = yes ]; then
    start "$kind" $r --replicaof 127.0.0.1 $m
    until [ "$(field $r master_link_status)" = up ]; do sleep 0.02; done
    python3 benches/repl_lag.py $m $r > "$work/lag-$kind" &
    sampler=$!
  fi
  local rps
  rps=$(redis-benchmark -p $m -t set -c 50 -n "$requests" -r 100000 -d 64 --csv \
    | tail -1 | tr -d '"' | awk -F, '{ print $2, $7 }')
  if [ "$replicated" = yes ]; then
    kill -TERM $sampler 2>/dev/null || true
    wait $sampler 2>/dev/null || true
    echo "lag $kind under SET x50: $(cat "$work/lag-$kind")"
    stop $r
  fi
  stop $m
  echo "$rps"
}

for kind in redis sedis; do
  full_sync "$kind" no
  full_sync "$kind" yes
done
for kind in redis sedis; do
  alone=$(load "$kind" no | tail -1)
  out=$(load "$kind" yes)
  echo "$out" | head -n -1
  with=$(echo "$out" | tail -1)
  read -r alone_rps alone_p99 <<< "$alone"
  read -r with_rps with_p99 <<< "$with"
  echo "SET x50 $kind: alone $alone_rps rps (p99 $alone_p99 ms), with a replica $with_rps rps (p99 $with_p99 ms), ratio $(echo "scale=2; $with_rps / $alone_rps" | bc)"
done
