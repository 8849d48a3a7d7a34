#!/usr/bin/env python3
"""Snapshot costs, Viator against redis-server, on loopback only.

Usage:
    python3 bench/snapshot.py [--candidate CMD] [--reference CMD] [--keys N]

CMD runs through `bash -c` with `{port}` and `{dir}` replaced by a free
loopback port and a scratch directory; the defaults are
./target/release/viator-server and redis-server, both with the DEBUG
command enabled and no save points. For each server, with N keys
(DEBUG POPULATE, default 1,000,000):

- BGSAVE under load: one client sends GETs of random keys back to back
  while BGSAVE runs; reported are the worst and the 99.9th percentile GET
  latency during the save, the save's duration, and the peak memory of the
  server's processes during it (proportional set size, so that pages a
  forked child shares with its parent count once) against the memory
  before.
- SAVE: its duration and the file's size.
- Load: the duration of DEBUG RELOAD NOSAVE (empty the dataset, load the
  file).
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError("unexpected reply %r" % line)


def session_pss_kb(pid):
    """Proportional set size of every process in the server's session."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                sid = int(f.read().rsplit(")", 1)[1].split()[3])
            if sid != pid:
                continue
            with open("/proc/%s/smaps_rollup" % entry) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


def info_field(conn, section, name):
    for line in conn.call("INFO", section).decode().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    return None


def measure(label, cmd, keys, sample_memory=True):
    scratch = tempfile.mkdtemp(prefix="viator-snapbench-")
    port = free_port()
    line = cmd.replace("{port}", str(port)).replace("{dir}", scratch)
    proc = subprocess.Popen(["bash", "-c", "exec " + line], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(200):
            try:
                c = Conn(port)
                c.call("PING")
                break
            except OSError:
                time.sleep(0.05)
        c.call("DEBUG", "POPULATE", keys)
        time.sleep(0.5)
        before_kb = session_pss_kb(proc.pid)

        # BGSAVE while a client reads.
        latencies = []
        stop = threading.Event()
        saving = threading.Event()

        def reader():
            g = Conn(port)
            rnd = random.Random(1)
            while not stop.is_set():
                key = "key:%d" % rnd.randrange(keys)
                t0 = time.perf_counter()
                g.call("GET", key)
                dt = time.perf_counter() - t0
                if saving.is_set():
                    latencies.append(dt)

        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.3)
        saving.set()
        t0 = time.perf_counter()
        c.call("BGSAVE")
        peak_kb = before_kb
        while info_field(c, "persistence", "rdb_bgsave_in_progress") != "0":
            if sample_memory:
                peak_kb = max(peak_kb, session_pss_kb(proc.pid))
            time.sleep(0.01)
        bgsave_s = time.perf_counter() - t0
        saving.clear()
        stop.set()
        t.join()
        latencies.sort()
        worst_ms = latencies[-1] * 1000 if latencies else float("nan")
        p999_ms = latencies[int(len(latencies) * 0.999)] * 1000 if latencies else float("nan")

        # SAVE and load.
        t0 = time.perf_counter()
        c.call("SAVE")
        save_s = time.perf_counter() - t0
        files = [f for f in os.listdir(scratch) if f.startswith("dump")]
        size = os.path.getsize(os.path.join(scratch, files[0])) if files else 0
        t0 = time.perf_counter()
        c.call("DEBUG", "RELOAD", "NOSAVE")
        load_s = time.perf_counter() - t0
        assert int(c.call("DBSIZE")) == keys
        return {
            "label": label,
            "gets": len(latencies),
            "worst_ms": worst_ms,
            "p999_ms": p999_ms,
            "bgsave_s": bgsave_s,
            "mem_before_mb": before_kb / 1024,
            "mem_peak_mb": peak_kb / 1024,
            "save_s": save_s,
            "file_mb": size / 1e6,
            "load_s": load_s,
        }
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    base = " --port {port} --bind 127.0.0.1 --save '' --appendonly no --dir {dir} --enable-debug-command yes"
    ap.add_argument("--candidate", default="./target/release/viator-server" + base)
    ap.add_argument("--reference", default="redis-server" + base)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--no-memory", action="store_true",
                    help="do not sample memory during BGSAVE (reading a process's page"
                         " tables from /proc stalls its page faults, which adds latency)")
    args = ap.parse_args()
    mem = not args.no_memory
    rows = [measure("redis", args.reference, args.keys, mem), measure("viator", args.candidate, args.keys, mem)]
    cols = ["gets", "worst_ms", "p999_ms", "bgsave_s", "mem_before_mb", "mem_peak_mb", "save_s", "file_mb", "load_s"]
    print("%-8s" % "server" + "".join("%14s" % c for c in cols))
    for r in rows:
        print("%-8s" % r["label"] + "".join(
            ("%14d" if c == "gets" else "%14.2f") % r[c] for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
