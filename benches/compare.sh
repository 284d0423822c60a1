#!/usr/bin/env bash
# Side-by-side throughput: sedis against redis-server 7.0.15 on this machine,
# with redis-benchmark, alternating servers round by round so both see the
# same background noise. Prints the median requests/s of each and the ratio,
# then the median CPU time per request of each server and of redis-benchmark
# driving it (without pipelining the benchmark client is the limit, so its
# cost per request decides the throughput as much as the server's does).
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

# Each server in its own session, as a daemonized redis-server is, so neither
# shares a scheduler autogroup with the benchmark client.
setsid ./target/release/sedis-server --port $sedis_port --loglevel warning &
redis-server --port $redis_port --save "" --appendonly no --dir "$tmp" --daemonize yes >/dev/null
for port in $sedis_port $redis_port; do
  for _ in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
done
pid_of() { redis-cli -p "$1" info server | tr -d '\r' | awk -F: '$1=="process_id" {print $2}'; }
sedis_pid=$(pid_of $sedis_port)
redis_pid=$(pid_of $redis_port)
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# name|requests per test|redis-benchmark arguments
shapes=(
  "c50-P1|200000|-c 50"
  "c50-P16|2000000|-c 50 -P 16"
  "c500-P1|200000|-c 500"
)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# The benchmark client's CPU time, as `time` prints it: user and system seconds.
TIMEFORMAT='%U %S'

for shape in "${shapes[@]}"; do
  IFS='|' read -r name n args <<<"$shape"
  for round in $(seq "$rounds"); do
    for server in sedis redis; do
      port=$sedis_port pid=$sedis_pid
      [ $server = redis ] && port=$redis_port pid=$redis_pid
      before=$(cpu_ticks "$pid")
      # shellcheck disable=SC2086
      { time redis-benchmark -p $port -t set,get -r 100000 -n "$n" -q $args 2>/dev/null |
          tr '\r' '\n' >"$tmp/out"; } 2>"$tmp/time"
      after=$(cpu_ticks "$pid")
      awk -v s=$server -v n=$name '/requests per second/ {sub(":","",$1); print s, n, $1, $2}' \
        "$tmp/out" >>"$tmp/results"
      # CPU microseconds per request (SET and GET together: 2n requests).
      awk -v s=$server -v nm=$name -v n="$n" -v t=$((after - before)) -v hz="$hz" \
        '{print s, nm, t / hz * 1e6 / (2 * n), ($1 + $2) * 1e6 / (2 * n)}' "$tmp/time" >>"$tmp/cpu"
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

echo
echo "CPU µs per request (median): server, and redis-benchmark driving it"
printf "%-8s %13s %13s %13s %13s\n" shape sedis redis client/sedis client/redis
col() { # col SERVER FIELD: the median of a CPU column for the current shape
  awk -v s="$1" -v n="$name" -v c="$2" '$1==s && $2==n {print $c}' "$tmp/cpu" | median
}
for shape in "${shapes[@]}"; do
  name=${shape%%|*}
  printf "%-8s %13.2f %13.2f %13.2f %13.2f\n" "$name" \
    "$(col sedis 3)" "$(col redis 3)" "$(col sedis 4)" "$(col redis 4)"
done
