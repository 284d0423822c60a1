#!/usr/bin/env bash
# Runs the real-client sessions (redis-py, ioredis, node-redis) against a
# server on PORT.
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

mkdir -p "$dir"
if [ ! -x "$dir/venv/bin/python" ] || ! "$dir/venv/bin/python" -c "import redis, sys; sys.exit(redis.__version__ != '$REDIS_PY')" 2>/dev/null; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install -q "redis==$REDIS_PY"
fi
installed() { # installed PACKAGE VERSION
  grep -q "\"version\": \"$2\"" "$dir/node/node_modules/$1/package.json" 2>/dev/null
}
if ! installed ioredis "$IOREDIS" || ! installed redis "$NODE_REDIS"; then
  mkdir -p "$dir/node"
  (cd "$dir/node" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --silent --no-audit --no-fund "ioredis@$IOREDIS" "redis@$NODE_REDIS")
fi

"$dir/venv/bin/python" "$here/session.py" "$port"
NODE_PATH="$dir/node/node_modules" node "$here/session.js" "$port"
NODE_PATH="$dir/node/node_modules" node "$here/session-node-redis.js" "$port"
