#!/usr/bin/env python3
"""Side-by-side benchmark of single commands that `shared/bench/compare.sh`
does not cover (streams, HyperLogLog, bitmaps, geo...), Viator against
redis-server, on loopback only.

Usage:
    python3 bench/commands.py [--candidate CMD] [--reference CMD]
                              [--rounds N] [--only NAME,NAME] [--requests N]

CMD runs through `bash -c` with `{port}` replaced by a free loopback port;
the defaults are ./target/release/viator-server and redis-server, both
without persistence. Each workload prepares its data on both servers
(same commands), then runs redis-benchmark (-c 50, at -P 1 and -P 16)
against each server in turn, alternating which goes first, and keeps the
median of the rounds. Server CPU per request is read from /proc (utime +
stime of the server process, all threads). The servers are pinned to CPU 0
and redis-benchmark to the other CPUs when taskset exists, as compare.sh
does.

Output: one line per workload and pipeline depth with requests per second
of both, their ratio (candidate / reference, > 1: candidate faster) and the
ratio of server CPU per request (< 1: candidate cheaper).
"""

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_reply(f):
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b":", b"-"):
        return rest
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    if kind == b"*":
        n = int(rest)
        return [read_reply(f) for _ in range(max(n, 0))]
    raise RuntimeError("unexpected reply %r" % line)


def pipeline(port, commands, batch=64):
    """Sends commands (tuples of args) in batches; fails on an error reply."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        f = s.makefile("rb")
        for i in range(0, len(commands), batch):
            chunk = commands[i : i + batch]
            s.sendall(b"".join(resp(*c) for c in chunk))
            for c in chunk:
                r = read_reply(f)
                if isinstance(r, bytes) and r.startswith(b"ERR"):
                    raise RuntimeError("%r -> %r" % (c, r))


class Server:
    def __init__(self, cmd, prefix):
        self.port = free_port()
        line = cmd.replace("{port}", str(self.port))
        self.proc = subprocess.Popen(
            prefix + ["bash", "-c", "exec " + line],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(200):
            try:
                pipeline(self.port, [("PING",)])
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start: " + line)

    def cpu_ticks(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


def geo_points(n, seed=7):
    rnd = random.Random(seed)
    cmds = []
    for i in range(0, n, 100):
        args = ["GEOADD", "geo"]
        for j in range(i, min(i + 100, n)):
            args += ["%.6f" % rnd.uniform(12.0, 15.0), "%.6f" % rnd.uniform(37.0, 39.0), "p%d" % j]
        cmds.append(tuple(args))
    return cmds


# name -> (setup commands, redis-benchmark command, extra redis-benchmark args)
def workloads(requests):
    stream_fill = [("XADD", "s", "*", "f", "v%d" % i) for i in range(requests + 1000)]
    hll_fill = [("PFADD", "hll", *("e%d" % j for j in range(i, i + 100))) for i in range(0, 50000, 100)]
    hll2_fill = [("PFADD", "hll2", *("x%d" % j for j in range(i, i + 100))) for i in range(0, 50000, 100)]
    return {
        "XADD": ([], ["XADD", "s", "*", "field", "value"], []),
        "XADD-MAXLEN": ([], ["XADD", "s", "MAXLEN", "~", "1000", "*", "field", "value"], []),
        "XRANGE": (stream_fill[-1000:], ["XRANGE", "s", "-", "+", "COUNT", "10"], []),
        "XREADGROUP": (
            stream_fill + [("XGROUP", "CREATE", "s", "g", "0")],
            ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"],
            [],
        ),
        "PFADD": ([], ["PFADD", "hll", "__rand_int__"], ["-r", "1000000"]),
        "PFCOUNT": (hll_fill, ["PFCOUNT", "hll"], []),
        "PFCOUNT-2KEYS": (hll_fill + hll2_fill, ["PFCOUNT", "hll", "hll2"], []),
        # __rand_int__ is zero-padded, which bit offsets may not be (both
        # servers refuse it): randomness goes into the key instead.
        "SETBIT": ([], ["SETBIT", "bm:__rand_int__", "100", "1"], ["-r", "100000"]),
        "SETBIT-1MB": ([], ["SETBIT", "bits", "8000000", "1"], []),
        "GETBIT": ([("SETBIT", "bits", "9999999", "1")], ["GETBIT", "bits", "4567890"], []),
        "BITCOUNT": ([("SETBIT", "bits", "1000000", "1")], ["BITCOUNT", "bits"], []),
        "BITFIELD": ([], ["BITFIELD", "bf:__rand_int__", "INCRBY", "u8", "100", "1"], ["-r", "100000"]),
        "GEOADD": ([], ["GEOADD", "geo", "13.361389", "38.115556", "m:__rand_int__"], ["-r", "1000000"]),
        "GEOSEARCH": (
            geo_points(100000),
            ["GEOSEARCH", "geo", "FROMLONLAT", "13.5", "38.0", "BYRADIUS", "5", "km", "ASC", "COUNT", "10"],
            [],
        ),
        "GEODIST": (geo_points(1000), ["GEODIST", "geo", "p1", "p2", "km"], []),
        # Whole 512 MB strings: memory speed, one client, few requests.
        "BITCOUNT-512MB": ([("SETRANGE", "big", "536870911", "x")], ["BITCOUNT", "big"], [], BIG),
        # The same string written all over first: every page real memory.
        "BITCOUNT-512MB-FILLED": (FILLED, ["BITCOUNT", "big"], [], BIG),
        "BITOP-AND-512MB": (
            [("SETRANGE", "big", "536870911", "x"), ("SETRANGE", "big2", "536870911", "y")],
            ["BITOP", "AND", "dest", "big", "big2"],
            [],
            BIG,
        ),
    }


# A 512 MB string written 1 MB at a time with varied bytes.
FILLED = [("SETRANGE", "big", i << 20, bytes((i * 7 + j) % 251 for j in range(256)) * 4096) for i in range(512)]

# Options of the 512 MB workloads: requests, clients, pipeline depths.
BIG = {"requests": 20, "clients": 1, "depths": (1,)}


def bench_once(server, cmd, extra, pipeline_depth, requests, client_prefix, clients=50):
    before = server.cpu_ticks()
    out = subprocess.run(
        client_prefix
        + ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-c", str(clients),
           "-n", str(requests), "-P", str(pipeline_depth), "--csv", "-q", *extra, *cmd],
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    ticks = server.cpu_ticks() - before
    rps = None
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if len(parts) >= 2 and parts[0] != "test":
            try:
                rps = float(parts[1])
            except ValueError:
                pass
    if rps is None:
        raise RuntimeError("no result from redis-benchmark: %r" % out)
    return rps, ticks / TICKS / requests


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidate", default="./target/release/viator-server --port {port} --bind 127.0.0.1 --save '' --appendonly no")
    ap.add_argument("--reference", default="redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    ncpu = os.cpu_count() or 1
    pin = shutil.which("taskset") and ncpu >= 2
    srv_prefix = ["taskset", "-c", "0"] if pin else []
    cli_prefix = ["taskset", "-c", "1-%d" % (ncpu - 1)] if pin else []
    only = {w for w in args.only.split(",") if w}
    print("%-14s %3s %12s %12s %7s %9s" % ("workload", "P", "ref rps", "cand rps", "ratio", "cpu ratio"))
    names = list(workloads(0))
    for name in names:
        if only and name not in only:
            continue
        opts = workloads(0)[name][3] if len(workloads(0)[name]) > 3 else {}
        for depth in opts.get("depths", (1, 16)):
            # Pipelined runs are much shorter: more requests keep the CPU
            # figure (in clock ticks) meaningful.
            requests = opts.get("requests", args.requests * (5 if depth == 16 else 1))
            setup, cmd, extra = workloads(requests)[name][:3]
            clients = opts.get("clients", 50)
            results = {"ref": [], "cand": []}
            for r in range(args.rounds):
                order = [("ref", args.reference), ("cand", args.candidate)]
                if r % 2:
                    order.reverse()
                for who, server_cmd in order:
                    server = Server(server_cmd, srv_prefix)
                    try:
                        pipeline(server.port, setup)
                        results[who].append(bench_once(server, cmd, extra, depth, requests, cli_prefix, clients))
                    finally:
                        server.stop()
            ref_rps = statistics.median(x[0] for x in results["ref"])
            cand_rps = statistics.median(x[0] for x in results["cand"])
            ref_cpu = statistics.median(x[1] for x in results["ref"])
            cand_cpu = statistics.median(x[1] for x in results["cand"])
            cpu_ratio = cand_cpu / ref_cpu if ref_cpu else float("nan")
            print("%-14s %3d %12.0f %12.0f %7.2f %9.2f" % (name, depth, ref_rps, cand_rps, cand_rps / ref_rps, cpu_ratio), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
