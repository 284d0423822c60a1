#!/usr/bin/env bash
# twemproxy (nutcracker) in front of three sedis servers: redis-benchmark
# through the proxy must finish without an error, and the keys must be
# spread over all three servers.
#
#   tests/clients/twemproxy.sh PATH/TO/sedis-server
set -euo pipefail
sedis=$1
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ports=()
for i in 1 2 3; do
  port=$(free_port)
  mkdir "$work/s$i"
  "$sedis" --port "$port" --save "" --dir "$work/s$i" > "$work/s$i/log" 2>&1 &
  pids+=($!)
  ports+=("$port")
done
proxy=$(free_port)
{
  echo "pool:"
  echo "  listen: 127.0.0.1:$proxy"
  echo "  hash: fnv1a_64"
  echo "  distribution: ketama"
  echo "  redis: true"
  echo "  auto_eject_hosts: false"
  echo "  servers:"
  for port in "${ports[@]}"; do echo "   - 127.0.0.1:$port:1"; done
} > "$work/nutcracker.yml"
nutcracker -c "$work/nutcracker.yml" -s "$(free_port)" > "$work/proxy.log" 2>&1 &
pids+=($!)
for port in "${ports[@]}" "$proxy"; do
  for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.05; done
done

# twemproxy forwards key commands only: the tests that use none (PING,
# MSET across servers) are left out.
redis-benchmark -p "$proxy" -c 20 -n 20000 -r 10000 -t set,get,incr,lpush,rpop,sadd,hset,spop,zadd \
  --csv > "$work/bench.txt" 2>&1 || { cat "$work/bench.txt"; exit 1; }
cat "$work/bench.txt"
if grep -qi "error" "$work/bench.txt"; then echo "errors through the proxy" >&2; exit 1; fi
total=0
for port in "${ports[@]}"; do
  keys=$(redis-cli -p "$port" DBSIZE)
  echo "127.0.0.1:$port holds $keys keys"
  [ "$keys" -gt 100 ] || { echo "keys are not spread over every server" >&2; exit 1; }
  total=$((total + keys))
done
echo "twemproxy: $total keys over 3 sedis servers"
