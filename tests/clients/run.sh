#!/usr/bin/env bash
# Runs the real-client sessions (redis-py, its consumer groups and its
# client-side cache, ioredis, node-redis) and the script-driven libraries
# (redis-py's Lock and a Lua rate limiter, node-redlock, a BullMQ queue and
# worker) against a server on PORT.
# Installs the pinned client libraries into DIR (default: target/clients)
# the first time: needs python3 with venv, node and npm.
#
#   tests/clients/run.sh PORT [DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port=$1
dir=${2:-"$here/../../target/clients"}

REDIS_PY=8.1.0   # redis-py: RESP3 (HELLO 3) by default since 8.0
IOREDIS=5.11.1
NODE_REDIS=5.10.0 # node-redis: the newest major that still runs on Debian 12's node 18
BULLMQ=5.81.5    # the last 5.x; its ioredis dependency is pinned to IOREDIS (shared)
REDLOCK=5.0.0-beta.2 # node-redlock on ioredis; its package.json says "v5.0.0-beta.2"

mkdir -p "$dir"
if [ ! -x "$dir/venv/bin/python" ] || ! "$dir/venv/bin/python" -c "import redis, sys; sys.exit(redis.__version__ != '$REDIS_PY')" 2>/dev/null; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install -q "redis==$REDIS_PY"
fi
installed() { # installed PACKAGE VERSION
  grep -q "\"version\": \"v\{0,1\}$2\"" "$dir/node/node_modules/$1/package.json" 2>/dev/null
}
if ! installed ioredis "$IOREDIS" || ! installed redis "$NODE_REDIS" ||
  ! installed bullmq "$BULLMQ" || ! installed redlock "$REDLOCK"; then
  mkdir -p "$dir/node"
  (cd "$dir/node" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --silent --no-audit --no-fund "ioredis@$IOREDIS" "redis@$NODE_REDIS" \
      "bullmq@$BULLMQ" "redlock@$REDLOCK")
fi

"$dir/venv/bin/python" "$here/session.py" "$port"
"$dir/venv/bin/python" "$here/scripting.py" "$port"
"$dir/venv/bin/python" "$here/datatypes.py" "$port"
"$dir/venv/bin/python" "$here/streams.py" "$port"
"$dir/venv/bin/python" "$here/tracking.py" "$port"
export NODE_PATH="$dir/node/node_modules"
node "$here/session.js" "$port"
node "$here/session-node-redis.js" "$port"
node "$here/session-redlock.js" "$port"
# BullMQ's scripts write job events to streams (XADD, XTRIM; QueueEvents
# reads them with XREAD BLOCK).
node "$here/session-bullmq.js" "$port"
