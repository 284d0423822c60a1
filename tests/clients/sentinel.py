"""Failover under Redis Sentinel: three redis-sentinel processes watch a
sedis master with two sedis replicas. The master is killed with SIGKILL
while redis-py's Sentinel client keeps writing; a replica must be promoted,
the other must follow it with a partial resync, the writes must go on, and
the old master, restarted, must rejoin as a replica. Prints the time from
the kill to the first successful write on the new master.

    python sentinel.py PATH/TO/sedis-server
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis
from redis.sentinel import Sentinel

SEDIS = sys.argv[1]
SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
work = tempfile.mkdtemp(prefix="sedis-sentinel-")
children = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(what, condition, timeout=30.0):
    deadline = time.time() + timeout
    while True:
        try:
            if condition():
                return
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            pass
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def start_sedis(port, master=None):
    d = os.path.join(work, "sedis-%d" % port)
    os.makedirs(d, exist_ok=True)
    args = [SEDIS, "--port", str(port), "--save", "", "--dir", d]
    if master:
        args += ["--replicaof", "127.0.0.1", str(master)]
    log = open(os.path.join(d, "log"), "a")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    children.append(p)
    until("sedis on %d" % port, lambda: redis.Redis(port=port).ping())
    return p


def start_sentinel(port, master_port):
    conf = os.path.join(work, "sentinel-%d.conf" % port)
    with open(conf, "w") as f:
        f.write(
            "port %d\nbind 127.0.0.1\ndir %s\n"
            "sentinel monitor mymaster 127.0.0.1 %d 2\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 10000\n"
            "sentinel parallel-syncs mymaster 1\n" % (port, work, master_port)
        )
    log = open(conf + ".log", "w")
    p = subprocess.Popen([SENTINEL, conf], stdout=log, stderr=subprocess.STDOUT)
    children.append(p)
    until("sentinel on %d" % port, lambda: redis.Redis(port=port).ping())


def info(port, section="replication"):
    return redis.Redis(port=port).info(section)


try:
    master, r1, r2 = free_port(), free_port(), free_port()
    master_proc = start_sedis(master)
    start_sedis(r1, master)
    start_sedis(r2, master)
    until("both replicas online", lambda: info(master)["connected_slaves"] == 2)
    sentinels = [free_port() for _ in range(3)]
    for port in sentinels:
        start_sentinel(port, master)
    sentinel = Sentinel([("127.0.0.1", p) for p in sentinels], socket_timeout=0.5)

    def known():
        s = redis.Redis(port=sentinels[0])
        return (
            len(s.sentinel_slaves("mymaster")) == 2
            and len(s.sentinel_sentinels("mymaster")) == 2
        )

    until("the sentinels to find the replicas and each other", known)
    client = sentinel.master_for("mymaster", socket_timeout=0.5)
    for i in range(100):
        client.set("k%d" % i, i)

    master_proc.send_signal(signal.SIGKILL)
    master_proc.wait()
    killed = time.time()
    written, failed, recovered = 0, 0, None
    n = 100
    while recovered is None or written < 50:
        try:
            client.set("k%d" % n, n)
            n += 1
            written += 1
            if recovered is None:
                recovered = time.time() - killed
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
            failed += 1
            time.sleep(0.05)
        assert time.time() - killed < 60, "no failover within a minute"
    new_master = sentinel.discover_master("mymaster")[1]
    assert new_master in (r1, r2), new_master
    other = r2 if new_master == r1 else r1
    # The other replica follows the promoted one, continuing its history.
    until(
        "the other replica to follow the new master",
        lambda: info(other)["master_port"] == new_master
        and info(other)["master_link_status"] == "up",
    )
    stats = info(new_master, "stats")
    assert stats["sync_partial_ok"] >= 1, stats
    assert stats["sync_full"] == 0, stats
    until(
        "every write on the other replica",
        lambda: redis.Redis(port=other).get("k%d" % (n - 1)) == str(n - 1).encode(),
    )
    assert redis.Redis(port=other).dbsize() == n

    # The old master comes back and is turned into a replica.
    start_sedis(master)
    until(
        "the old master to rejoin as a replica",
        lambda: info(master)["role"] == "slave"
        and info(master)["master_port"] == new_master
        and info(master)["master_link_status"] == "up",
        timeout=60,
    )
    until("its data to match", lambda: redis.Redis(port=master).dbsize() == n)
    print(
        "sentinel failover: recovered in %.2f s (down-after-milliseconds 1000), "
        "%d writes refused meanwhile, %d keys on every server" % (recovered, failed, n)
    )
finally:
    for p in children:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(work, ignore_errors=True)
