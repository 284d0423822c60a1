"""A redis-py client-side caching session against sedis: fails loudly on
any difference.

Usage: python3 tracking.py PORT

redis-py 8 keeps a local cache for a RESP3 connection made with
`cache_config`: it turns CLIENT TRACKING on, serves repeated reads from
its cache, and drops entries when the server pushes `invalidate` messages.
The session reads a key twice (the server sees one GET), changes it from
another connection, and expects the cached client to read the new value;
then a FLUSHALL empties the cache the same way.

redis-py enables this only for servers that say they are Redis 7.4 or
later (a product-compatibility choice; the protocol it relies on, CLIENT
TRACKING and RESP3 invalidation pushes, is Redis 6's). sedis says it is
7.0.15, so the session lowers that bound first; the same session passes
against redis-server 7.0.15.
"""

import select
import sys

import redis
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection


def check(what, got, expected):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def get_calls(r):
    """How many GETs the server has run (INFO commandstats)."""
    return r.info("commandstats").get("cmdstat_get", {}).get("calls", 0)


def wait_for_push(cached):
    """Waits (up to 5 s) until the cached client's socket has something to
    read: the invalidation the server pushed. redis-py reads pending pushes
    before its next command, but only those already arrived."""
    conn = cached.connection_pool._available_connections[0]
    sock = conn._conn._sock
    readable, _, _ = select.select([sock], [], [], 5)
    if not readable:
        raise AssertionError("no invalidation arrived within 5 s")


def session(port):
    CacheProxyConnection.MIN_ALLOWED_VERSION = "7.0.0"
    other = redis.Redis(port=port, protocol=3)
    other.flushall()
    other.set("csc:k", "v1")
    cached = redis.Redis(port=port, protocol=3, cache_config=CacheConfig())

    before = get_calls(other)
    check("first read", cached.get("csc:k"), b"v1")
    check("second read", cached.get("csc:k"), b"v1")
    check("GETs the server ran for two reads", get_calls(other) - before, 1)
    stats = other.info("stats")
    check("keys the server tracks", stats["tracking_total_keys"], 1)
    check("tracking clients", other.info("clients")["tracking_clients"], 1)
    flags = [c["flags"] for c in other.client_list() if "t" in c["flags"]]
    check("CLIENT LIST flags of the cached client", flags, ["t"])

    # Another connection writes: the server pushes an invalidation.
    other.set("csc:k", "v2")
    wait_for_push(cached)
    check("read after another client's write", cached.get("csc:k"), b"v2")
    check("that read went to the server", get_calls(other) - before, 2)
    check("read from the cache again", cached.get("csc:k"), b"v2")
    check("...without the server", get_calls(other) - before, 2)

    # A flush invalidates everything with a null.
    other.flushall()
    wait_for_push(cached)
    check("read after FLUSHALL", cached.get("csc:k"), None)
    check("that read went to the server", get_calls(other) - before, 3)

    cached.close()
    other.close()


if __name__ == "__main__":
    session(int(sys.argv[1]))
    print(f"redis-py {redis.__version__}: client-side cache session passed (RESP3)")
