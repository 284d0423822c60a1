"""A redis-py consumer-group session against sedis: fails loudly on any
difference.

Usage: python3 streams.py PORT

Two consumers share a group: one blocks in XREADGROUP until another
connection's XADD wakes it, entries are acknowledged, and a consumer that
read and died has its entries taken over with XAUTOCLAIM. Runs in RESP3
(redis-py 8's default) and RESP2.
"""

import sys
import threading

import redis


def check(what, got, expected):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def entries(reply, stream):
    """The (id, fields) pairs an XREAD/XREADGROUP reply holds for `stream`:
    RESP3 replies are maps of stream to [entries], RESP2 lists of pairs."""
    if isinstance(reply, dict):
        found = reply.get(stream)
        return found[0] if found else []
    for key, items in reply:
        if key == stream:
            return items
    return []


def wait_blocked(r, n):
    """Returns once the server reports `n` blocked clients."""
    while r.info("clients")["blocked_clients"] != n:
        threading.Event().wait(0.005)


def session(port, proto):
    r = redis.Redis(port=port, protocol=proto)
    r.flushall()
    check("group on a new stream", r.xgroup_create("jobs", "workers", id="$", mkstream=True), True)
    try:
        r.xgroup_create("jobs", "workers", id="$")
        raise AssertionError("a second group of the same name was created")
    except redis.ResponseError as e:
        check("busygroup", str(e), "BUSYGROUP Consumer Group name already exists")

    # A consumer blocked on the group is woken by another connection's XADD.
    alice = redis.Redis(port=port, protocol=proto)
    result = {}

    def read_blocked():
        try:
            result["reply"] = alice.xreadgroup("workers", "alice", {"jobs": ">"}, count=10, block=5000)
        except redis.ResponseError as e:
            result["error"] = str(e)

    reader = threading.Thread(target=read_blocked)
    reader.start()
    wait_blocked(r, 1)
    producer = redis.Redis(port=port, protocol=proto)
    first = producer.xadd("jobs", {"task": "resize", "id": "1"})
    reader.join(timeout=10)
    check("woken reader got the entry", entries(result["reply"], b"jobs"),
          [(first, {b"task": b"resize", b"id": b"1"})])

    # Two consumers split the next entries; each sees only its own history.
    ids = [producer.xadd("jobs", {"task": "thumb", "n": str(i)}) for i in range(4)]
    bob = redis.Redis(port=port, protocol=proto)
    got_alice = entries(alice.xreadgroup("workers", "alice", {"jobs": ">"}, count=2), b"jobs")
    got_bob = entries(bob.xreadgroup("workers", "bob", {"jobs": ">"}, count=10), b"jobs")
    check("alice's share", [i for i, _ in got_alice], ids[:2])
    check("bob's share", [i for i, _ in got_bob], ids[2:])
    check("nothing new", alice.xreadgroup("workers", "alice", {"jobs": ">"}), {} if proto == 3 else [])
    history = entries(alice.xreadgroup("workers", "alice", {"jobs": "0"}), b"jobs")
    check("alice's history", [i for i, _ in history], [first] + ids[:2])

    # Acknowledging empties alice's pending list; bob's stays.
    check("xack", alice.xack("jobs", "workers", first, *ids[:2], b"9-9"), 3)
    pending = r.xpending("jobs", "workers")
    check("pending summary", (pending["pending"], pending["min"], pending["max"]),
          (2, ids[2], ids[3]))
    check("pending per consumer", pending["consumers"], [{"name": b"bob", "pending": 2}])
    detail = r.xpending_range("jobs", "workers", "-", "+", 10, consumername="bob")
    check("bob's pending ids", [p["message_id"] for p in detail], ids[2:])
    check("delivered once", [p["times_delivered"] for p in detail], [1, 1])

    # Bob dies: carol takes over his entries, one deleted meanwhile.
    bob.close()
    producer.xdel("jobs", ids[3])
    carol = redis.Redis(port=port, protocol=proto)
    cursor, claimed, deleted = carol.xautoclaim("jobs", "workers", "carol", 0, "0-0", count=10)
    check("autoclaim cursor", cursor, b"0-0")
    check("autoclaimed", claimed, [(ids[2], {b"task": b"thumb", b"n": b"2"})])
    check("autoclaim saw the deleted entry", deleted, [ids[3]])
    detail = r.xpending_range("jobs", "workers", "-", "+", 10)
    check("carol owns it", [(p["message_id"], p["consumer"], p["times_delivered"]) for p in detail],
          [(ids[2], b"carol", 2)])
    check("carol acks", carol.xack("jobs", "workers", ids[2]), 1)

    groups = r.xinfo_groups("jobs")
    check("group info", [(g["name"], g["consumers"], g["pending"], g["last-delivered-id"],
                          g["entries-read"], g["lag"]) for g in groups],
          [(b"workers", 3, 0, ids[3], 5, 0)])
    consumers = r.xinfo_consumers("jobs", "workers")
    check("consumers", [(c["name"], c["pending"]) for c in consumers],
          [(b"alice", 0), (b"bob", 0), (b"carol", 0)])
    check("delconsumer", r.xgroup_delconsumer("jobs", "workers", "bob"), 0)

    # A reader blocked on a group that is destroyed gets NOGROUP.
    reader = threading.Thread(target=read_blocked)
    reader.start()
    wait_blocked(r, 1)
    check("destroy", r.xgroup_destroy("jobs", "workers"), True)
    reader.join(timeout=10)
    check("destroyed group", result.get("error"),
          "NOGROUP the consumer group this client was blocked on no longer exists")
    for c in (r, alice, producer, carol):
        c.close()


def main():
    port = int(sys.argv[1])
    for proto in (3, 2):
        session(port, proto)
    print(f"redis-py {redis.__version__}: consumer-group session passed (RESP3 and RESP2)")


if __name__ == "__main__":
    main()
