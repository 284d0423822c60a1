#!/usr/bin/env bash
# Side-by-side throughput: sedis against redis-server 7.0.15 on this machine,
# with redis-benchmark, alternating servers round by round so both see the
# same background noise. Prints the median requests/s of each and the ratio.
#
#   benches/compare.sh [rounds]        (default 5)
#
# Needs redis-server and redis-benchmark (apt-get install redis-server
# redis-tools) and a release build (cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
sedis_port=17380
redis_port=17379
tmp=$(mktemp -d)
trap 'redis-cli -p $sedis_port shutdown nosave >/dev/null 2>&1 || true;
      redis-cli -p $redis_port shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

./target/release/sedis-server --port $sedis_port --loglevel warning &
redis-server --port $redis_port --save "" --appendonly no --dir "$tmp" --daemonize yes >/dev/null
for port in $sedis_port $redis_port; do
  for _ in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# name|redis-benchmark arguments
shapes=(
  "c50-P1|-c 50 -n 200000"
  "c50-P16|-c 50 -n 2000000 -P 16"
  "c500-P1|-c 500 -n 200000"
)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for shape in "${shapes[@]}"; do
  name=${shape%%|*}
  args=${shape#*|}
  for round in $(seq "$rounds"); do
    for server in sedis redis; do
      port=$sedis_port; [ $server = redis ] && port=$redis_port
      # shellcheck disable=SC2086
      redis-benchmark -p $port -t set,get -r 100000 -q $args 2>/dev/null | tr '\r' '\n' |
        awk -v s=$server -v n=$name '/requests per second/ {sub(":","",$1); print s, n, $1, $2}' >>"$tmp/results"
    done
  done
done

printf "%-8s %-4s %12s %12s %7s\n" shape test sedis redis ratio
for shape in "${shapes[@]}"; do
  name=${shape%%|*}
  for test in SET GET; do
    s=$(awk -v n=$name -v t=$test '$1=="sedis" && $2==n && $3==t {print $4}' "$tmp/results" | median)
    r=$(awk -v n=$name -v t=$test '$1=="redis" && $2==n && $3==t {print $4}' "$tmp/results" | median)
    printf "%-8s %-4s %12.0f %12.0f %7.2f\n" "$name" "$test" "$s" "$r" "$(echo "$s / $r" | bc -l)"
  done
done
