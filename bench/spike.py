"""The outage-day spike: `python bench/surfaces.py --spike [--clients 300] [--workers 1] [--seconds 6]`.

A few hundred concurrent keep-alive clients (raw HTTP/1.1 on asyncio, in a process of their own)
poll `/status`, `/banner.json` and `/api/v2/summary.json` (a third of them each), first against the
same bytes as static files (Starlette's StaticFiles, in the same server: the same process count,
the same HTTP stack), then against the public server, and halfway through that phase a new version
is published (from a third process, sent in it, announced on Redis as a worker announces it).

Reported: requests per second of each phase, p50/p99 latency per request, and the time from the
publish call until every client has seen the new words (and until half of them have). The server
is `create_public_app` under uvicorn with `--workers` processes (each keeps its own documents and
listens for switches on its own). SQLite on a quiet machine; say the load (`uptime`) beside any number.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("/status", "/banner.json", "/api/v2/summary.json")
STATIC = {"/status": "/static/status/index.html", "/banner.json": "/static/banner.json",
          "/api/v2/summary.json": "/static/api/v2/summary.json"}


def app_factory():
    """One server process: the public app, and the static export mounted at /static (uvicorn's factory)."""
    from starlette.staticfiles import StaticFiles

    from broadcaster.web.public import create_public_app
    from tests.conftest import make_settings

    app = create_public_app(make_settings(os.environ["BENCH_SPIKE_URL"]))
    app.mount("/static", StaticFiles(directory=os.environ["BENCH_SPIKE_SITE"]), name="static")
    return app


def publisher(url: str) -> None:
    """A process of its own: waits for a line on stdin, publishes a new version with those words (sent
    in this process, so the surfaces have switched when it returns; announced on Redis), prints the
    monotonic times (shared by processes) it started and returned."""
    import sqlite3

    from broadcaster.surfaces import register_switch_hooks
    from tests.conftest import make_settings
    from tests.integration.surfaces_data import publish_update

    # Warm up on a copy of the database: the first publish of a process compiles every template.
    warm = url.removeprefix("sqlite:///") + ".warm"
    with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(warm) as copy:
        source.backup(copy)
    publish_update(make_settings(f"sqlite:///{warm}"), 1, status="identified", headline="Warming up")
    register_switch_hooks()
    settings = make_settings(url)
    print("ready", flush=True)
    words = sys.stdin.readline().strip()
    started = time.monotonic()
    publish_update(settings, 1, status="identified", headline=words, body=words)
    print(started, time.monotonic(), flush=True)


async def client(port: int, path: str, deadline: float, words: bytes, seen: list, latencies: list) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    done = 0
    try:
        # past the phase's end, until this client has seen the words (a slow publish on a busy machine)
        while time.monotonic() < deadline or (words and not seen[0] and time.monotonic() < deadline + 20):
            started = time.monotonic()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            now = time.monotonic()
            latencies.append(now - started)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {head.splitlines()[0].decode()}")
            if words and not seen[0] and words in body:
                seen[0] = now
            done += 1
    finally:
        writer.close()
    return done


async def phase(port: int, clients: int, seconds: float, paths, words: bytes = b"", publish=None):
    latencies: list[float] = []
    seen = [[0.0] for _ in range(clients)]
    started = time.monotonic()
    tasks = [client(port, paths[i % len(paths)], started + seconds, words, seen[i], latencies)
             for i in range(clients)]
    publish_at = None
    if publish is not None:
        async def later():
            nonlocal publish_at
            await asyncio.sleep(seconds / 2)
            publish_at = await asyncio.get_running_loop().run_in_executor(None, publish)
        tasks.append(later())
    counts = await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    total = sum(c for c in counts if c is not None)
    return total / elapsed, latencies, [s[0] for s in seen], publish_at


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def prepare(workdir: Path, url: str) -> Path:
    """One published incident (its id is 1) in the migrated database at `url`, and its static export."""
    from broadcaster.surfaces import export_static
    from tests.conftest import make_settings
    from tests.integration.surfaces_data import open_incident, publish_update

    settings = make_settings(url)
    publish_update(settings, open_incident(settings, "Login failures", "major", ("Login",)))
    export_static(settings, workdir / "site")
    return workdir / "site"


def wait_for(port: int, server: subprocess.Popen, timeout: float = 120) -> None:
    from tests.harness import wait_until

    def up() -> bool:
        if server.poll() is not None:
            raise SystemExit("the server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_until(up, timeout, "the server")


def main_spike(args) -> None:
    from broadcaster.store.db import migrate
    from tests.integration.private_services import PrivateRedis, free_port

    redis = PrivateRedis().start()
    with tempfile.TemporaryDirectory(prefix="bench-spike-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        site = prepare(Path(tmp), url)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_SPIKE_URL": url, "BENCH_SPIKE_SITE": str(site),
               "BROADCASTER_PUBLIC_NOTIFY_URL": redis.url}
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.spike:app_factory", "--factory",
                                   "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
                                   "--no-access-log"], cwd=ROOT, env=env)
        publishing = subprocess.Popen([sys.executable, __file__, "--publisher", url], cwd=ROOT, env=env, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            wait_for(port, server)
            assert publishing.stdout.readline().strip() == "ready"
            asyncio.run(phase(port, min(args.clients, 20), 1.0, PATHS))  # warm-up: every process, every path
            static_rate, static_latency, _, _ = asyncio.run(
                phase(port, args.clients, args.seconds, [STATIC[p] for p in PATHS]))
            words = f"Spike {time.time_ns()}: new words"

            def publish() -> float:
                publishing.stdin.write(words + "\n")
                publishing.stdin.flush()
                started, switched = map(float, publishing.stdout.readline().split())
                return started, switched

            rate, latency, seen, published = asyncio.run(
                phase(port, args.clients, args.seconds, PATHS, words.encode(), publish))
        finally:
            for process in (publishing, server):
                process.terminate()
                process.wait(15)
            redis.stop()
    missing = sum(1 for s in seen if not s)
    after = sorted(s - published[0] for s in seen if s)
    after_switch = sorted(s - published[1] for s in seen if s)
    print(f"spike: {args.clients} keep-alive clients on /status, /banner.json, /api/v2/summary.json, "
          f"{args.seconds:g} s a phase, uvicorn --workers {args.workers}, SQLite")
    print(f"spike: static files  {static_rate:8.0f} req/s   p50 {1000 * statistics.median(static_latency):6.1f} ms"
          f"   p99 {1000 * percentile(static_latency, 99):6.1f} ms")
    print(f"spike: public server {rate:8.0f} req/s   p50 {1000 * statistics.median(latency):6.1f} ms"
          f"   p99 {1000 * percentile(latency, 99):6.1f} ms   ({100 * rate / static_rate:.0f} % of static)")
    if not after:
        print(f"spike: no client saw the new words (publish took {published[1] - published[0]:.2f} s)")
        return
    print(f"spike: publish took {published[1] - published[0]:.2f} s (the surfaces switched by its end); new words "
          f"at every client {max(after):.2f} s after publish was called, {max(after_switch):.2f} s after it "
          f"returned; at half of them {statistics.median(after):.2f} s / {statistics.median(after_switch):.2f} s"
          + (f"; {missing} clients never saw them" if missing else "") + " (aim: every client within 2 s)")


if __name__ == "__main__" and sys.argv[1:2] == ["--publisher"]:
    sys.path.insert(0, str(ROOT))
    publisher(sys.argv[2])
