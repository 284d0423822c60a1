#!/usr/bin/env bash
# GEOSEARCH, PFADD and PFCOUNT side by side: sedis against redis-server
# 7.0.15, both loaded with the same million places (and the same HLLs),
# driven by redis-benchmark with the servers alternating round by round.
# Prints, per command, the median requests/s of each server, the ratio, and
# the median p50 / p99 latencies (ms) redis-benchmark reports.
#
#   benches/compare_geo_hll.sh [rounds]        (default 3)
#
# Needs redis-server, redis-cli and redis-benchmark, python3, and a release
# build (cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
sedis_port=17382
redis_port=17381
tmp=$(mktemp -d)
trap 'redis-cli -p $sedis_port shutdown nosave >/dev/null 2>&1 || true;
      redis-cli -p $redis_port shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

setsid ./target/release/sedis-server --port $sedis_port --save "" --loglevel warning &
redis-server --port $redis_port --save "" --appendonly no --dir "$tmp" --daemonize yes >/dev/null
for port in $sedis_port $redis_port; do
  for _ in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# A million places in a 10° x 6° box around Berlin (as benches/geo.rs), 100
# per GEOADD, and two HLLs of 100,000 elements each, in RESP for --pipe.
python3 - >"$tmp/load.resp" <<'PY'
import random, sys
r = random.Random(1)
out = sys.stdout
def cmd(*args):
    out.write(f"*{len(args)}\r\n")
    for a in args:
        a = str(a)
        out.write(f"${len(a.encode())}\r\n{a}\r\n")
for start in range(0, 1_000_000, 100):
    args = ["GEOADD", "places"]
    for i in range(start, start + 100):
        args += [f"{8.4 + r.random() * 10:.6f}", f"{49.5 + r.random() * 6:.6f}", f"place:{i}"]
    cmd(*args)
for key, base in (("hll:a", 0), ("hll:b", 50_000)):
    for start in range(base, base + 100_000, 1000):
        cmd("PFADD", key, *[f"e{i}" for i in range(start, start + 1000)])
PY
for port in $sedis_port $redis_port; do
  redis-cli -p $port --pipe <"$tmp/load.resp" >/dev/null
done
[ "$(redis-cli -p $sedis_port zcard places)" = "$(redis-cli -p $redis_port zcard places)" ]

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# name|requests|command
tests=(
  "GEOSEARCH-1km|20000|GEOSEARCH places FROMLONLAT 13.4 52.5 BYRADIUS 1 km ASC"
  "GEOSEARCH-10km-COUNT10|5000|GEOSEARCH places FROMLONLAT 13.4 52.5 BYRADIUS 10 km COUNT 10 WITHDIST"
  "PFADD|200000|PFADD hll:bench __rand_int__"
  "PFCOUNT-1key|200000|PFCOUNT hll:a"
  "PFCOUNT-2keys|20000|PFCOUNT hll:a hll:b"
)
for test in "${tests[@]}"; do
  IFS='|' read -r name n command <<<"$test"
  for round in $(seq "$rounds"); do
    for server in sedis redis; do
      port=$sedis_port
      [ $server = redis ] && port=$redis_port
      # shellcheck disable=SC2086
      redis-benchmark -p $port -c 50 -n "$n" -r 1000000 $command 2>/dev/null | tr '\r' '\n' >"$tmp/out"
      rps=$(awk '/throughput summary/ {print $3}' "$tmp/out")
      read -r p50 p99 < <(awk '/latency summary/ {getline; getline; print $3, $5}' "$tmp/out")
      echo "$server $name $rps $p50 $p99" >>"$tmp/results"
    done
  done
done
printf '%-24s %12s %12s %7s %16s %16s\n' test sedis/s redis/s ratio "p50 ms s/r" "p99 ms s/r"
for test in "${tests[@]}"; do
  name=${test%%|*}
  s=$(awk -v n="$name" '$1=="sedis" && $2==n {print $3}' "$tmp/results" | median)
  r=$(awk -v n="$name" '$1=="redis" && $2==n {print $3}' "$tmp/results" | median)
  s50=$(awk -v n="$name" '$1=="sedis" && $2==n {print $4}' "$tmp/results" | median)
  r50=$(awk -v n="$name" '$1=="redis" && $2==n {print $4}' "$tmp/results" | median)
  s99=$(awk -v n="$name" '$1=="sedis" && $2==n {print $5}' "$tmp/results" | median)
  r99=$(awk -v n="$name" '$1=="redis" && $2==n {print $5}' "$tmp/results" | median)
  printf '%-24s %12s %12s %7.2f %16s %16s\n' "$name" "$s" "$r" "$(echo "$s / $r" | bc -l)" "$s50/$r50" "$s99/$r99"
done
