"""redis-py's Lua-backed helpers against sedis: fails loudly on any difference.

Usage: python3 scripting.py PORT

In RESP3 and then RESP2:

- redis.lock.Lock: acquire (SET NX PX), extend and reacquire (EVALSHA of
  its registered scripts), release; a second thread blocked in acquire gets
  the lock only once it is released, a non-blocking acquire fails while it
  is held; LockNotOwnedError when releasing or extending a lock that expired
  and was taken by another client, or whose token someone overwrote.
- A sliding-window rate limiter in one register_script script (ZREMRANGEBYSCORE,
  ZCARD, ZADD, PEXPIRE), on a simulated clock so the allowed and denied
  counts are exact; the same script in a pipeline and after SCRIPT FLUSH
  (redis-py reloads it on NOSCRIPT); and a variant that reads the server's
  clock with redis.call('TIME').
"""

import sys
import threading
import time

import redis
from redis.exceptions import LockError, LockNotOwnedError


def check(what, got, expected):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def check_range(what, got, low, high):
    if not low <= got <= high:
        raise AssertionError(f"{what}: expected {low}..{high}, got {got!r}")


def locks(r, proto, port):
    # Acquire, extend (added to the TTL, then replacing it), reacquire.
    lock = r.lock("lock:job", timeout=1)
    check("acquire", lock.acquire(blocking=False), True)
    check("owned", lock.owned(), True)
    check("locked", lock.locked(), True)
    check_range("pttl after acquire", r.pttl("lock:job"), 900, 1000)
    check("extend", lock.extend(2), True)
    check_range("pttl after extend by 2 s", r.pttl("lock:job"), 2900, 3000)
    check("extend replacing the ttl", lock.extend(5, replace_ttl=True), True)
    check_range("pttl after extend to 5 s", r.pttl("lock:job"), 4900, 5000)
    check("reacquire", lock.reacquire(), True)
    check_range("pttl after reacquire", r.pttl("lock:job"), 900, 1000)

    # Contention: another client's lock on the same name.
    other = redis.Redis(port=port, protocol=proto)
    rival = other.lock("lock:job", timeout=5)
    check("non-blocking acquire while held", rival.acquire(blocking=False), False)
    started = time.monotonic()
    check("blocking acquire that times out", rival.acquire(blocking_timeout=0.3, sleep=0.05), False)
    check_range("blocked for the whole timeout", time.monotonic() - started, 0.25, 2)
    try:
        rival.release()
        raise AssertionError("released a lock that was never acquired")
    except LockError as e:
        check("release unacquired", type(e), LockError)

    # A thread blocked in acquire gets the lock only after the release.
    lock.extend(10, replace_ttl=True)
    outcome = {}

    def contend():
        waiter = other.lock("lock:job", timeout=5, sleep=0.02)
        outcome["acquired"] = waiter.acquire(blocking_timeout=5)
        outcome["at"] = time.monotonic()
        outcome["owned"] = waiter.owned()
        waiter.release()

    thread = threading.Thread(target=contend)
    thread.start()
    time.sleep(0.3)
    check("waiter still blocked while the lock is held", outcome, {})
    check("still owned", lock.owned(), True)
    released_at = time.monotonic()
    lock.release()
    thread.join(5)
    check("waiter finished", thread.is_alive(), False)
    check("waiter acquired", (outcome["acquired"], outcome["owned"]), (True, True))
    if outcome["at"] < released_at:
        raise AssertionError("the waiter acquired the lock before it was released")
    check("lock free after the waiter released it", r.exists("lock:job"), 0)
    try:
        lock.release()
        raise AssertionError("released a lock twice")
    except LockNotOwnedError:
        raise AssertionError("second release reached the server")
    except LockError:
        pass

    # The lock expired and someone else took it: release and extend refuse.
    short = r.lock("lock:short", timeout=0.1)
    check("acquire short lock", short.acquire(blocking=False), True)
    deadline = time.monotonic() + 2
    while r.exists("lock:short") and time.monotonic() < deadline:
        time.sleep(0.01)
    check("short lock expired", r.exists("lock:short"), 0)
    taker = other.lock("lock:short", timeout=5)
    check("another client takes the expired lock", taker.acquire(blocking=False), True)
    check("owned by the taker, not the first holder", (short.owned(), taker.owned()), (False, True))
    for what, op in (("extend", lambda: short.extend(1)), ("release", short.release)):
        try:
            op()
            raise AssertionError(f"{what} of a lock another client holds succeeded")
        except LockNotOwnedError as e:
            check(f"{what} not owned", e.lock_name, "lock:short")
    check("the taker's lock survived", r.get("lock:short"), taker.local.token)
    check("the taker's ttl was untouched", r.pttl("lock:short") > 4000, True)
    taker.release()

    # A token overwritten behind the holder's back.
    held = r.lock("lock:overwritten", timeout=5)
    held.acquire()
    r.set("lock:overwritten", "someone-else")
    try:
        held.release()
        raise AssertionError("released a lock whose token was overwritten")
    except LockNotOwnedError:
        pass
    check("the overwriting value survived", r.get("lock:overwritten"), b"someone-else")

    # The context manager releases on exit.
    with r.lock("lock:ctx", timeout=5, blocking_timeout=1) as ctx:
        check("context manager holds the lock", ctx.owned(), True)
    check("context manager released the lock", r.exists("lock:ctx"), 0)
    other.close()


# KEYS[1] the window's sorted set; ARGV: now (ms), window (ms), limit, member.
# Returns {allowed (1 or 0), requests counted in the window}.
SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, count + 1}
end
return {0, count}
"""

# The same limiter on the server's clock (TIME inside the script).
SLIDING_WINDOW_SERVER_CLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 1
end
return 0
"""


def rate_limiter(r):
    limiter = r.register_script(SLIDING_WINDOW)
    key = "rate:user:1"

    # Limit 5 per 1,000 ms; a request every 50 ms from t=0 to t=2950.
    # Allowed: t=0..200 (5), then each time an entry leaves the window,
    # i.e. t=1000..1200 (5) and t=2000..2200 (5): 15 allowed, 45 denied.
    allowed, denied = [], 0
    for i in range(60):
        now = i * 50
        ok, count = limiter(keys=[key], args=[now, 1000, 5, f"req-{i}"])
        if ok == 1:
            allowed.append(now)
            check_range(f"count after allowing t={now}", count, 1, 5)
        else:
            denied += 1
            check(f"count when denying t={now}", count, 5)
    check("allowed times", allowed, [0, 50, 100, 150, 200, 1000, 1050, 1100, 1150, 1200, 2000, 2050, 2100, 2150, 2200])
    check("denied", denied, 45)
    check("window holds the last five", r.zrange(key, 0, -1), [f"req-{i}".encode() for i in range(40, 45)])
    check_range("window key expires with the window", r.pttl(key), 1, 1000)

    # In a pipeline, after SCRIPT FLUSH: redis-py loads the script first.
    check("script flush", r.script_flush(), True)
    check("script gone", r.script_exists(limiter.sha), [False])
    r.delete(key)
    pipe = r.pipeline()
    for i in range(8):
        limiter(keys=[key], args=[5000, 1000, 5, f"burst-{i}"], client=pipe)
    replies = pipe.execute()
    check("pipelined burst", [ok for ok, _ in replies], [1] * 5 + [0] * 3)
    check("script loaded again", r.script_exists(limiter.sha), [True])

    # SCRIPT FLUSH between calls: the next call reloads on NOSCRIPT.
    r.script_flush()
    check("after flush, outside the window", limiter(keys=[key], args=[6001, 1000, 5, "late"]), [1, 1])

    # Two keys never share a window.
    check("another user's window", limiter(keys=["rate:user:2"], args=[6001, 1000, 5, "x"]), [1, 1])

    # On the server's clock: ten requests in a burst, three allowed.
    server_clock = r.register_script(SLIDING_WINDOW_SERVER_CLOCK)
    results = [server_clock(keys=["rate:clock"], args=[10000, 3, f"c-{i}"]) for i in range(10)]
    check("server-clock limiter", results, [1, 1, 1] + [0] * 7)
    check("server-clock window size", r.zcard("rate:clock"), 3)
    check_range("server-clock key ttl", r.pttl("rate:clock"), 9000, 10000)


def main():
    port = int(sys.argv[1])
    for proto in (3, 2):
        r = redis.Redis(port=port, protocol=proto)
        r.flushall()
        locks(r, proto, port)
        rate_limiter(r)
        r.close()
    print(f"redis-py {redis.__version__}: Lock and Lua rate limiter passed (RESP3 and RESP2)")


if __name__ == "__main__":
    main()
