#!/usr/bin/env python3
"""Latency of a Sanic server under long-lived websocket connections, for a Sanic source tree
as it is and after `ffscan fix`: loopback only, bounded in connections, requests and time.

    python ws_load.py --tree /path/to/sanic-checkout                  # one tree
    python ws_load.py --tree before=/a --tree after=/b --runs 3       # several, side by side
    python ws_load.py --tree old=/c:/path/to/other/ffscan             # more folders after the tree

Run it with a Python that has Sanic's dependencies and `websockets` installed. Each tree is
put first on the server's PYTHONPATH, so the server runs that tree's `sanic`; folders listed
after it (separated by the platform's path separator) follow it there, so a fixed tree can be
given the `ffscan.runtime` of another checkout. Otherwise a fixed tree finds the runtime it
imports in the venv (`ffscan.runtime`) or in itself (the copy `ffscan fix --vendor` wrote).
The server reports which `sanic` and which runtime it loaded; both are printed.

The server has three routes: `/hold`, a websocket whose handler waits `--hold` seconds before
it reads (a client that is slow to consume, or a handler busy elsewhere); `/echo`, a websocket
that echoes at once; and `/ping`, plain HTTP. The load: `--holders` clients connect to
`/hold` and each sends one message, which Sanic's frame assembler holds until the handler
reads it. Then one client on `/echo` makes `--probes` round trips, and one keep-alive HTTP
connection makes `--probes` requests to `/ping`, each with a `--timeout`; a probe stops at its
first timeout (a late answer would be read as the next one's), so "timed out" is 0 or 1 per
run. A tree's run that takes longer than `--deadline` seconds stops the script with an
error. Printed: one line per tree and run, then a table per tree over all runs (median, 99th
percentile and worst latency, timeouts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

APP = '''
import asyncio
import json
import os
import sys

import sanic
from sanic import Sanic, response

app = Sanic("ws_load")
HOLD = float(os.environ["WS_LOAD_HOLD"])


@app.before_server_start
async def report_modules(app):
    runtimes = [name for name in ("ffscan.runtime", "sanic._tracked") if name in sys.modules]
    found = {"sanic": sanic.__file__, "runtime": {name: sys.modules[name].__file__ for name in runtimes}}
    with open(os.environ["WS_LOAD_INFO"], "w") as info:
        json.dump(found, info)


@app.websocket("/hold")
async def hold(request, ws):
    await asyncio.sleep(HOLD)
    async for message in ws:
        await ws.send(message)


@app.websocket("/echo")
async def echo(request, ws):
    async for message in ws:
        await ws.send(message)


@app.get("/ping")
async def ping(request):
    return response.text("ok")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["WS_LOAD_PORT"]), single_process=True, access_log=False, motd=False)
'''

MAX_HOLDERS = 256
MAX_PROBES = 5000
MAX_RUNS = 10
MAX_DEADLINE = 600.0
START_SECONDS = 30.0
SETTLE_SECONDS = 0.5

Probe = Tuple[List[float], int]  # (latencies in seconds, timeouts)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(path: str, port: int, hold: float, folder: Path) -> subprocess.Popen:
    """Start the app on `port` with `path` as its PYTHONPATH; return once it listens."""
    app = folder / "ws_load_app.py"
    app.write_text(APP)
    env = {
        **os.environ,
        "PYTHONPATH": path,
        "WS_LOAD_PORT": str(port),
        "WS_LOAD_HOLD": str(hold),
        "WS_LOAD_INFO": str(folder / "info.json"),
    }
    # the log goes to a file: a pipe nobody reads while the load runs would fill and stall the server
    with open(folder / "server.log", "w") as log:
        server = subprocess.Popen([sys.executable, str(app)], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server for {path} exited:\n{server_log(folder)}")
        if (folder / "info.json").exists():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return server
            except OSError:  # not listening yet: try again until the deadline
                pass
        time.sleep(0.1)
    stop_server(server)
    raise SystemExit(
        f"the server for {path} did not listen on port {port} within {START_SECONDS:g} s:\n{server_log(folder)}"
    )


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:  # it ignored SIGTERM: kill it, and wait for that
        server.kill()
        server.wait()


def server_log(folder: Path, lines: int = 20) -> str:
    return "\n".join((folder / "server.log").read_text(errors="replace").splitlines()[-lines:])


async def http_probes(port: int, count: int, timeout: float) -> Probe:
    """Make `count` requests on one keep-alive connection."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except asyncio.TimeoutError:
        return [], 1
    request = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
    latencies: List[float] = []
    timeouts = 0
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            try:
                await asyncio.wait_for(read_response(reader), timeout)
            except asyncio.TimeoutError:
                timeouts += 1
                break  # the connection's state is unknown after a timeout: stop here
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()
    return latencies, timeouts


async def read_response(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    if not lengths:
        raise SystemExit(f"the server answered without a Content-Length: {head!r}")
    await reader.readexactly(int(lengths[0]))


async def ws_probes(port: int, count: int, timeout: float) -> Probe:
    """Make `count` round trips on one connection to `/echo`."""
    import websockets

    latencies: List[float] = []
    timeouts = 0
    try:
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/echo", open_timeout=timeout)
    except asyncio.TimeoutError:
        return [], 1
    try:
        for number in range(count):
            started = time.perf_counter()
            await ws.send(str(number))
            try:
                await asyncio.wait_for(ws.recv(), timeout)
            except asyncio.TimeoutError:
                timeouts += 1
                break  # an answer may still come: later round trips would read it
            latencies.append(time.perf_counter() - started)
    finally:
        ws.transport.abort()  # a closing handshake would wait on a server that may be stalled
    return latencies, timeouts


async def load(port: int, holders: int, probes: int, timeout: float) -> Tuple[Dict[str, Probe], float]:
    """Hold `holders` connections, then probe; return the probes and the seconds since the first hold."""
    import websockets

    held = []
    try:
        for _ in range(holders):
            held.append(await websockets.connect(f"ws://127.0.0.1:{port}/hold", open_timeout=timeout))
        started = time.monotonic()
        for ws in held:
            await ws.send("held")
        await asyncio.sleep(SETTLE_SECONDS)  # the server has the held messages by now
        found = {"ws": await ws_probes(port, probes, timeout), "http": await http_probes(port, probes, timeout)}
        return found, time.monotonic() - started
    finally:
        for ws in held:
            ws.transport.abort()


def summary(probe: Probe, probes: int) -> str:
    latencies, timeouts = probe
    if not latencies:
        return f"0/{probes} answered, {timeouts} timed out"
    median, p99, worst = percentiles(latencies)
    return (
        f"{len(latencies)}/{probes} answered, median {ms(median)}, p99 {ms(p99)}, max {ms(worst)}, {timeouts} timed out"
    )


def percentiles(latencies: List[float]) -> Tuple[float, float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def parse_tree(given: str) -> Tuple[str, str]:
    """`[NAME=]PATH[:MORE...]` -> (name, PYTHONPATH); every folder must exist."""
    name, _, paths = given.rpartition("=")
    folders = [Path(part).resolve() for part in paths.split(os.pathsep) if part]
    if not folders:
        raise SystemExit(f"--tree {given!r}: no folder given")
    for folder in folders:
        if not folder.is_dir():
            raise SystemExit(f"--tree {given!r}: {folder} is not a folder")
    if not (folders[0] / "sanic" / "__init__.py").is_file():
        raise SystemExit(f"--tree {given!r}: {folders[0]} has no sanic/__init__.py")
    return name or folders[0].name, os.pathsep.join(map(str, folders))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, metavar="[NAME=]PATH[:MORE]", help="a Sanic source tree")
    parser.add_argument("--holders", type=int, default=32, help=f"held websocket connections (at most {MAX_HOLDERS})")
    parser.add_argument("--probes", type=int, default=200, help=f"round trips and requests (at most {MAX_PROBES})")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds /hold waits before it reads")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds one round trip or request may take")
    parser.add_argument("--runs", type=int, default=1, help=f"runs per tree, trees alternating (at most {MAX_RUNS})")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds one tree's run may take in all")
    args = parser.parse_args(argv)
    if not 0 <= args.holders <= MAX_HOLDERS or not 1 <= args.probes <= MAX_PROBES or not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--holders must be 0-{MAX_HOLDERS}, --probes 1-{MAX_PROBES} and --runs 1-{MAX_RUNS}")
    if not 0 < args.timeout <= args.deadline <= MAX_DEADLINE or args.hold <= 0:
        parser.error(f"need 0 < --timeout <= --deadline <= {MAX_DEADLINE:g} and --hold > 0")
    trees = [parse_tree(given) for given in args.tree]
    print(
        f"{args.holders} held websocket connections, {args.probes} probes each, hold {args.hold:g} s, "
        f"timeout {args.timeout:g} s, {args.runs} run(s), Python {sys.version.split()[0]}"
    )
    pooled: Dict[str, Dict[str, Probe]] = {name: {"ws": ([], 0), "http": ([], 0)} for name, _ in trees}
    for run in range(1, args.runs + 1):
        for name, path in trees:
            with tempfile.TemporaryDirectory() as folder:
                port = free_port()
                server = start_server(path, port, args.hold, Path(folder))
                try:
                    found, seconds = asyncio.run(
                        asyncio.wait_for(load(port, args.holders, args.probes, args.timeout), args.deadline)
                    )
                except asyncio.TimeoutError:
                    raise SystemExit(f"run {run} {name}: not done within --deadline {args.deadline:g} s") from None
                finally:
                    stop_server(server)
                info = json.loads((Path(folder) / "info.json").read_text())
            if run == 1:
                runtimes = ", ".join(f"{module} from {file}" for module, file in info["runtime"].items()) or "none"
                print(f"{name}: sanic from {info['sanic']}; runtime loaded: {runtimes}")
            if seconds > args.hold:
                print(f"run {run} {name}: the load took {seconds:.1f} s, longer than --hold: raise --hold")
            for kind, label in (("ws", "websocket echo"), ("http", "http keep-alive")):
                print(f"run {run} {name}: {label}: {summary(found[kind], args.probes)}")
                latencies, timeouts = pooled[name][kind]
                pooled[name][kind] = (latencies + found[kind][0], timeouts + found[kind][1])
    print()
    print("| Tree | Probe | Answered | Median | p99 | Max | Timed out |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, _ in trees:
        for kind, label in (("ws", "websocket echo"), ("http", "http keep-alive")):
            latencies, timeouts = pooled[name][kind]
            answered = f"{len(latencies)}/{args.probes * args.runs}"
            cells = [ms(value) for value in percentiles(latencies)] if latencies else ["-", "-", "-"]
            print(f"| {name} | {label} | {answered} | {' | '.join(cells)} | {timeouts} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
