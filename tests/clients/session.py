"""A realistic redis-py session against sedis: fails loudly on any difference.

Usage: python3 session.py PORT

Uses redis-py's defaults (RESP3 via HELLO 3 in redis-py 8) and then a
RESP2 connection, so both reply decoders see sedis's replies.
"""

import sys
import time

import redis


def check(what, got, expected):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def session(r, proto):
    r.flushall()

    # Strings, counters, binary values (every byte value, embedded NULs).
    check("set", r.set("greeting", "hello"), True)
    check("get", r.get("greeting"), b"hello")
    blob = bytes(range(256)) * 4
    r.set(b"bin\x00key\xff", blob)
    check("binary round trip", r.get(b"bin\x00key\xff"), blob)
    check("incr", r.incr("counter"), 1)
    check("incrby", r.incrby("counter", 41), 42)
    check("incrbyfloat", r.incrbyfloat("float", "0.1"), 0.1)
    check("mset", r.mset({"a": "1", "b": "2"}), True)
    check("mget", r.mget("a", "b", "missing"), [b"1", b"2", None])
    try:
        r.incr("greeting")
        raise AssertionError("INCR on a non-integer succeeded")
    except redis.ResponseError as e:
        check("incr error", str(e), "value is not an integer or out of range")

    # Pipelines: many commands in one write, replies in order.
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(f"key:{i}", i)
    for i in range(500):
        pipe.get(f"key:{i}")
    replies = pipe.execute()
    check("pipeline sets", replies[:500], [True] * 500)
    check("pipeline gets", replies[500:], [str(i).encode() for i in range(500)])
    check("dbsize", r.dbsize(), 500 + 6)

    # Transactions, including WATCH aborting on another client's write.
    tx = r.pipeline(transaction=True)
    tx.incr("tx:a").incr("tx:b").mget("tx:a", "tx:b")
    check("multi/exec", tx.execute(), [1, 1, [b"1", b"1"]])
    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"], protocol=proto)
    with r.pipeline() as p:
        p.watch("tx:a")
        other.set("tx:a", "changed")
        p.multi()
        p.incr("tx:a")
        try:
            p.execute()
            raise AssertionError("EXEC ran although a watched key changed")
        except redis.WatchError:
            pass
    check("watched key kept the other write", r.get("tx:a"), b"changed")
    other.close()

    # Expiry.
    r.set("temp", "x", px=50)
    ttl = r.pttl("temp")
    if not 0 < ttl <= 50:
        raise AssertionError(f"pttl: {ttl}")
    deadline = time.monotonic() + 2
    while r.exists("temp") and time.monotonic() < deadline:
        time.sleep(0.01)
    check("expired key is gone", r.exists("temp"), 0)
    r.set("persisted", "v", ex=100)
    check("persist", r.persist("persisted"), True)
    check("ttl after persist", r.ttl("persisted"), -1)

    # Lists and sorted sets.
    check("rpush", r.rpush("list", "a", "b", "c"), 3)
    check("lrange", r.lrange("list", 0, -1), [b"a", b"b", b"c"])
    check("blpop", r.blpop(["list"], timeout=1), [b"list", b"a"] if proto == 3 else (b"list", b"a"))
    check("zadd", r.zadd("z", {"x": 1.5, "y": 2}), 2)
    check("zrange withscores", r.zrange("z", 0, -1, withscores=True), [[b"x", 1.5], [b"y", 2.0]] if proto == 3 else [(b"x", 1.5), (b"y", 2.0)])
    check("zscore", r.zscore("z", "x"), 1.5)

    # Hashes and sets.
    check("hset", r.hset("user:1", mapping={"name": "ada", "age": "36"}), 2)
    check("hgetall", r.hgetall("user:1"), {b"name": b"ada", b"age": b"36"})
    check("hincrby", r.hincrby("user:1", "age", 1), 37)
    check("sadd", r.sadd("tags", "a", "b", "c"), 3)
    check("smembers", r.smembers("tags"), {b"a", b"b", b"c"})
    check("sinter", r.sinter("tags", "nokey"), set())
    check("hscan_iter", dict(r.hscan_iter("user:1")), {b"name": b"ada", b"age": b"37"})

    # Keys and scanning.
    check("scan_iter", len(set(r.scan_iter(match="key:*", count=50))), 500)
    check("type", r.type("list"), b"list")
    check("rename", r.rename("greeting", "salute"), True)
    check("exists", r.exists("greeting", "salute"), 1)

    # Pub/sub round trip: a subscriber on its own connection.
    p = r.pubsub()
    p.subscribe("news")
    confirmation = p.get_message(timeout=2)
    check("subscribe confirmation", (confirmation["type"], confirmation["channel"]), ("subscribe", b"news"))
    check("publish receivers", r.publish("news", b"hello \x00 world"), 1)
    msg = p.get_message(timeout=2)
    check("message", (msg["type"], msg["channel"], msg["data"]), ("message", b"news", b"hello \x00 world"))
    check("numsub", r.pubsub_numsub("news"), [(b"news", 1)])
    p.close()

    # Server introspection the client library relies on.
    info = r.info("server")
    check("info redis_version", info["redis_version"], "7.0.15")
    check("config get", r.config_get("maxmemory-policy"), {"maxmemory-policy": "noeviction"})
    check("client setname", r.client_setname("py-session"), True)
    check("client getname", r.client_getname(), b"py-session" if proto == 3 else "py-session")


def main():
    port = int(sys.argv[1])
    for proto in (3, 2):
        r = redis.Redis(port=port, protocol=proto)
        session(r, proto)
        r.close()
    print(f"redis-py {redis.__version__}: session passed (RESP3 and RESP2)")


if __name__ == "__main__":
    main()
