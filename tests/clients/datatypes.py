"""redis-py's helpers for Redis's value-encoding commands against sedis:
BITFIELD, SORT (and, with them, the bitmap commands). Fails loudly on any
difference from what Redis replies.

Usage: python3 datatypes.py PORT
"""

import sys

import redis


def check(what, got, expected):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def bitmaps(r):
    check("setbit", r.setbit("flags", 7, 1), 0)
    check("getbit", r.getbit("flags", 7), 1)
    check("bitcount", r.bitcount("flags"), 1)
    check("bitpos", r.bitpos("flags", 1), 7)
    bf = r.bitfield("counters")
    bf.set("u8", 0, 200).incrby("u8", 0, 100).get("u8", 0)
    check("bitfield wrap", bf.execute(), [0, 44, 44])
    bf = r.bitfield("counters", default_overflow="SAT")
    bf.incrby("u8", 0, 250).incrby("i4", "#3", -20)
    check("bitfield sat", bf.execute(), [255, -8])
    bf = r.bitfield("counters")
    bf.overflow("FAIL").incrby("u8", 0, 1)
    check("bitfield fail", bf.execute(), [None])
    check("bitfield_ro", r.bitfield_ro("counters", "u8", 0), [255])
    check("bitop", r.bitop("NOT", "inverted", "flags"), 1)
    check("bitop result", r.get("inverted"), b"\xfe")


def sorting(r):
    r.rpush("ids", 3, 1, 2, 10)
    check("sort", r.sort("ids"), [b"1", b"2", b"3", b"10"])
    check("sort desc limit", r.sort("ids", desc=True, start=1, num=2), [b"3", b"2"])
    check("sort alpha", r.sort("ids", alpha=True), [b"1", b"10", b"2", b"3"])
    for i, (name, age) in {1: ("ada", 37), 2: ("bob", 25), 3: ("cy", 51), 10: ("di", 19)}.items():
        r.hset(f"user:{i}", mapping={"name": name, "age": age})
        r.set(f"weight:{i}", -age)
    check("sort by hash field", r.sort("ids", by="user:*->age"), [b"10", b"2", b"1", b"3"])
    check("sort by key", r.sort("ids", by="weight:*"), [b"3", b"1", b"2", b"10"])
    check(
        "sort get",
        r.sort("ids", by="user:*->age", get=["#", "user:*->name"], groups=True),
        [(b"10", b"di"), (b"2", b"bob"), (b"1", b"ada"), (b"3", b"cy")],
    )
    check("sort nosort", r.sort("ids", by="nosort", get="user:*->name"), [b"cy", b"ada", b"bob", b"di"])
    check("sort store", r.sort("ids", by="user:*->name", alpha=True, desc=True, store="ranked"), 4)
    check("stored", r.lrange("ranked", 0, -1), [b"10", b"3", b"2", b"1"])
    check("sort_ro", r.sort_ro("ids", by="weight:*", get="user:*->name"), [b"cy", b"ada", b"bob", b"di"])
    r.sadd("tags", "b", "c", "a")
    check("set sorted by nosort into a list", r.sort("tags", by="nosort", store="tagged"), 3)
    check("stored set", r.lrange("tagged", 0, -1), [b"a", b"b", b"c"])
    r.rpush("mixed", 1, "x")
    try:
        r.sort("mixed")
        raise AssertionError("SORT of a non-number succeeded")
    except redis.ResponseError as e:
        check("sort error", str(e), "One or more scores can't be converted into double")


def main():
    port = int(sys.argv[1])
    for proto in (3, 2):
        r = redis.Redis(port=port, protocol=proto)
        r.flushall()
        bitmaps(r)
        sorting(r)
        r.close()
    print(f"redis-py {redis.__version__}: data type session passed (RESP3 and RESP2)")


if __name__ == "__main__":
    main()
