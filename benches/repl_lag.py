"""Replication lag as a reader of the replica sees it: writes a fresh value
on the master, then reads the replica until the value is there, every
20 ms until stopped (SIGTERM) or DURATION seconds pass; prints the
percentiles of that delay in milliseconds. Plain sockets, no client
library.

    python3 repl_lag.py MASTER_PORT REPLICA_PORT [DURATION]
"""

import signal
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, s.makefile("rb")


def call(conn, *args):
    sock, reader = conn
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    line = reader.readline()
    if line.startswith(b"$"):
        n = int(line[1:])
        if n < 0:
            return None
        data = reader.read(n + 2)
        return data[:-2]
    return line.strip()


master, replica = connect(int(sys.argv[1])), connect(int(sys.argv[2]))
duration = float(sys.argv[3]) if len(sys.argv) > 3 else 3600
stopped = []
signal.signal(signal.SIGTERM, lambda *_: stopped.append(1))
samples = []
end = time.time() + duration
i = 0
while not stopped and time.time() < end:
    i += 1
    value = str(i).encode()
    t0 = time.perf_counter()
    call(master, "SET", "lag:probe", value)
    while call(replica, "GET", "lag:probe") != value:
        pass
    samples.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.02)
samples.sort()
if samples:
    pick = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))]
    print(
        "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d probes)"
        % (pick(0.5), pick(0.99), samples[-1], len(samples))
    )
