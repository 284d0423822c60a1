"""redis-py's helpers for the data commands whose values Redis encodes in
strings and sorted sets, against sedis: bitmaps and BITFIELD, HyperLogLog,
geospatial indexes, and SORT. Fails loudly on any difference from what
Redis replies.

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


def hyperloglogs(r):
    check("pfadd", r.pfadd("visitors", *[f"user:{i}" for i in range(1000)]), 1)
    check("pfadd again", r.pfadd("visitors", "user:1", "user:2"), 0)
    check("pfcount", r.pfcount("visitors"), 1007)
    r.pfadd("visitors:2", *[f"user:{i}" for i in range(500, 1500)])
    check("pfcount union", r.pfcount("visitors", "visitors:2"), 1516)
    check("pfmerge", r.pfmerge("visitors:all", "visitors", "visitors:2"), True)
    check("pfcount merged", r.pfcount("visitors:all"), 1516)
    check("hll header", r.get("visitors:all")[:4], b"HYLL")
    r.set("not-hll", "plain")
    try:
        r.pfadd("not-hll", "x")
        raise AssertionError("PFADD on a plain string succeeded")
    except redis.ResponseError as e:
        check("pfadd error", str(e), "WRONGTYPE Key is not a valid HyperLogLog string value.")


def geo(r, proto):
    check("geoadd", r.geoadd("Sicily", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]), 2)
    check("zscore of a place", r.zscore("Sicily", "Palermo"), 3479099956230698.0)
    check("geodist", r.geodist("Sicily", "Palermo", "Catania", unit="km"), 166.2742)
    check("geohash", r.geohash("Sicily", "Palermo", "missing"), ["sqc8b49rny0", None] if proto == 2 else [b"sqc8b49rny0", None])
    pos = [tuple(round(float(c), 6) for c in p) if p is not None else None for p in r.geopos("Sicily", "Palermo", "missing")]
    check("geopos", pos, [(13.361389, 38.115556), None])
    found = r.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km", withdist=True, sort="ASC")
    check("geosearch", [(m, d) for m, d in found], [(b"Catania", 56.4413), (b"Palermo", 190.4424)])
    boxed = r.geosearch("Sicily", member="Palermo", width=400, height=400, unit="km", sort="DESC", count=1)
    check("geosearch bybox count", boxed, [b"Catania"])
    check("geosearchstore", r.geosearchstore("near", "Sicily", longitude=15, latitude=37, radius=100, unit="km", storedist=True), 1)
    check("stored distance", r.zrange("near", 0, -1, withscores=True), [[b"Catania", 56.4412578701582]] if proto == 3 else [(b"Catania", 56.4412578701582)])
    try:
        r.geoadd("Sicily", [200, 100, "nowhere"])
        raise AssertionError("GEOADD out of range succeeded")
    except redis.ResponseError as e:
        check("geoadd error", str(e), "invalid longitude,latitude pair 200.000000,100.000000")


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
        hyperloglogs(r)
        geo(r, proto)
        sorting(r)
        r.close()
    print(f"redis-py {redis.__version__}: data type session passed (RESP3 and RESP2)")


if __name__ == "__main__":
    main()
