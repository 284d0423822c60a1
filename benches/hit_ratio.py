#!/usr/bin/env python3
"""Cache hit ratio under a tight maxmemory, per eviction policy, sedis beside
redis-server 7.0.15.

A cache-aside workload: GETs of keys drawn from a Zipf distribution (100,000
keys, exponent 0.99 as YCSB's), and a SET (100-byte value) for each miss.
Each server first holds `capacity` keys (a tenth of the keyspace, chosen at
random); maxmemory is then set to the memory it uses for them, and moved
during the warm-up until each server holds about that many keys whatever
its per-key cost. two million requests warm the cache, the next million
are counted
(keyspace_hits / (hits + misses)). The volatile policies get keys written
with a TTL of an hour.

    benches/hit_ratio.py [--requests N] [--policies p1,p2]

Needs redis-server and a release build (cargo build --release). Only the
standard library: the RESP client is the few lines below.
"""

import argparse
import bisect
import itertools
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

KEYS = 100_000
EXPONENT = 0.99
VALUE = b"v" * 100
BATCH = 1000


class Conn:
    """A pipelining RESP2 client: enough for GET, SET, CONFIG and INFO."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, commands):
        out = []
        for args in commands:
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return [self.reply() for _ in commands]

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 20)
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        return rest

    def call(self, *args):
        return self.send([args])[0]

    def info(self, field):
        text = self.call("INFO").decode()
        for line in text.splitlines():
            if line.startswith(field + ":"):
                return int(line.split(":")[1])
        raise KeyError(field)


def start(binary, port, tmp):
    if binary == "redis":
        argv = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                "--dir", tmp]
    else:
        argv = [binary, "--port", str(port), "--save", "", "--dir", tmp]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    for _ in range(100):
        try:
            return proc, Conn(port)
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{binary} did not start")


def run(binary, port, policy, requests, seed):
    tmp = tempfile.mkdtemp()
    proc, c = start(binary, port, tmp)
    try:
        rng = random.Random(seed)
        weights = list(itertools.accumulate(1 / (r ** EXPONENT) for r in range(1, KEYS + 1)))
        names = [b"key:%d" % i for i in range(KEYS)]
        rng.shuffle(names)  # the hot keys land anywhere
        ttl = policy.startswith("volatile")

        def set_cmd(key):
            return ["SET", key, VALUE, "EX", 3600] if ttl else ["SET", key, VALUE]

        capacity = KEYS // 10
        for start_at in range(0, capacity, BATCH):
            picks = rng.sample(names, BATCH)
            c.send([set_cmd(k) for k in picks])
        used = c.info("used_memory")
        c.call("CONFIG", "SET", "maxmemory-policy", policy)
        c.call("CONFIG", "SET", "maxmemory", used)
        total = weights[-1]

        def traffic(count):
            for _ in range(0, count, BATCH):
                keys = [names[bisect.bisect_left(weights, rng.random() * total)]
                        for _ in range(BATCH)]
                replies = c.send([["GET", k] for k in keys])
                misses = [k for k, v in zip(keys, replies) if v is None]
                if misses:
                    c.send([set_cmd(k) for k in misses])

        traffic(requests // 2)
        # Per-key costs differ between the servers (and so does what else
        # the limit has to cover): move the limit until each holds about
        # `capacity` keys, so the policies are what is compared.
        per_key = used / capacity
        for _ in range(6):
            held = c.call("DBSIZE")
            used = int(used + (capacity - held) * per_key)
            c.call("CONFIG", "SET", "maxmemory", used)
            traffic(requests // 4)
        c.call("CONFIG", "RESETSTAT")
        traffic(requests)
        hits, misses = c.info("keyspace_hits"), c.info("keyspace_misses")
        held = c.call("DBSIZE")
        return hits / (hits + misses), held
    finally:
        proc.kill()
        proc.wait()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--policies",
                        default="allkeys-lru,allkeys-lfu,allkeys-random,volatile-lru,volatile-lfu")
    parser.add_argument("--sedis", default=os.path.join(here, "..", "target", "release",
                                                        "sedis-server"))
    args = parser.parse_args()
    print(f"Zipf({EXPONENT}) over {KEYS} keys, room for about {KEYS // 10}, "
          f"{args.requests} requests counted")
    print(f"{'policy':<16} {'redis hit %':>12} {'sedis hit %':>12} {'redis keys':>11} "
          f"{'sedis keys':>11}")
    for policy in args.policies.split(","):
        r, r_keys = run("redis", 17391, policy, args.requests, seed=7)
        s, s_keys = run(args.sedis, 17392, policy, args.requests, seed=7)
        print(f"{policy:<16} {100 * r:>12.2f} {100 * s:>12.2f} {r_keys:>11} {s_keys:>11}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
