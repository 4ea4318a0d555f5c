"""Requests per second for the public surfaces against the same bytes as static files, in one run,
while a fan-out runs.

One uvicorn process serves `create_public_app` with a Starlette StaticFiles mount at /static of
the static export (`broadcaster export`): the same server, the same bytes, so the ratio says what
the cached snapshot costs over a file. A small asyncio client on keep-alive connections (raw
HTTP/1.1, so the client is cheaper than the server) hammers one path at a time; the paths take
turns over several rounds, since this shared machine's speed drifts. Loopback only; every round
is bounded in time and in requests.

By default it measures during a fan-out, as an outage has it: PostgreSQL (`broadcaster_bench`),
Redis db 15, the fake provider and two `celery worker` processes (bench/fanout.py's harness), a
statement published to `--during-fanout` subscribers (email and SMS each) just before the first
round; it prints how many rounds ran while that fan-out was still sending. `--during-fanout 0`
measures a quiet machine on a SQLite file instead.

    python bench/surfaces.py [--during-fanout 20000] [--seconds 2] [--rounds 3] [--connections 8]

`--spike` is the outage-day spike instead: hundreds of polling clients while a version is published
(bench/spike.py).

    python bench/surfaces.py --spike [--clients 300] [--workers 1] [--seconds 6]
"""

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAIRS = [("/api/v2/summary.json", "/static/api/v2/summary.json"), ("/banner.json", "/static/banner.json")]
MAX_REQUESTS_PER_ROUND = 200_000


def prepare(workdir: Path, url: str, **values) -> Path:
    """One published incident (two versions) in the migrated database at `url`, and its static export."""
    from broadcaster.surfaces import export_static
    from tests.conftest import make_settings
    from tests.integration.surfaces_data import open_incident, publish_update

    settings = make_settings(url, **{k: v for k, v in values.items() if k != "database_url"})
    incident = open_incident(settings, "Login failures", "major", ("Login", "API"))
    publish_update(settings, incident)
    publish_update(settings, incident, status="identified", headline="We found the cause of the login failures")
    export_static(settings, workdir / "site")
    return workdir / "site"


class FanOut:
    """A statement to `n` subscribers, published to two `celery worker` processes on `start`."""

    def __init__(self, values: dict, settings, pool, n: int):
        self.values, self.settings, self.pool, self.n = values, settings, pool, n
        self.url = values["database_url"]
        self.statement_id = 0

    def prepare(self) -> None:
        """After the surfaces' own incident (sent in this process): the subscribers and the statement."""
        from tests.harness import add_subscribers
        from tests.integration.engine import approved_statement

        add_subscribers(self.settings, self.n, components=("Login",))
        self.statement_id = approved_statement(self.settings)

    def start(self) -> None:
        from bench.fanout import POOL
        from broadcaster.delivery.broker import EVERY_QUEUE
        from broadcaster.incidents import publishing
        from broadcaster.people.users import actor_named
        from tests.integration.engine import as_env

        for _ in range(2):
            self.pool.start(POOL, EVERY_QUEUE, env=as_env(self.values))
        publishing.publish(self.settings, actor_named(self.settings, "alice"), self.statement_id)

    def running(self) -> bool:
        from bench.live_during_bulk import bulk_left

        return bulk_left(self.settings, self.statement_id) > 0


@contextlib.contextmanager
def fan_out(workdir: Path, n: int):
    from bench.fanout import clean_redis, fresh_database, worker_pool
    from broadcaster.config import Settings
    from tests.fakes.server import running_fake
    from tests.integration.engine import provider_settings

    with running_fake() as fake, fresh_database() as url, clean_redis() as broker, worker_pool() as pool:
        values = {"database_url": url, "broker_url": broker, "secret_key": "bench-secret-key",
                  **provider_settings(fake.url)}
        yield FanOut(values, Settings(_env_file=None, **values), pool, n)


def serve(port: int, url: str, site: str) -> None:
    """The server process: the public app and, in the same app, the static export."""
    import uvicorn
    from starlette.staticfiles import StaticFiles

    from broadcaster.web.public import create_public_app
    from tests.conftest import make_settings

    app = create_public_app(make_settings(url))
    app.mount("/static", StaticFiles(directory=site), name="static")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def one_connection(port: int, path: str, deadline: float, budget: list[int]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    done = 0
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {head.splitlines()[0].decode()}")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


async def measure(port: int, path: str, seconds: float, connections: int) -> float:
    budget = [MAX_REQUESTS_PER_ROUND]
    started = time.monotonic()
    counts = await asyncio.gather(*(one_connection(port, path, started + seconds, budget)
                                    for _ in range(connections)))
    return sum(counts) / (time.monotonic() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per path per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--during-fanout", type=int, default=20000, metavar="N",
                        help="subscribers of the fan-out running meanwhile (0: none, SQLite)")
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "URL", "SITE"), help=argparse.SUPPRESS)
    parser.add_argument("--spike", action="store_true", help="the spike: --clients polling while a version goes out")
    parser.add_argument("--clients", type=int, default=300, help="--spike: concurrent keep-alive clients")
    parser.add_argument("--workers", type=int, default=1, help="--spike: public server processes (uvicorn --workers)")
    args = parser.parse_args()
    if args.spike:
        from bench.spike import main_spike

        return main_spike(argparse.Namespace(**{**vars(args), "seconds": max(args.seconds, 6.0)}))
    if args.serve:
        return serve(int(args.serve[0]), args.serve[1], args.serve[2])
    overlapped = 0
    with tempfile.TemporaryDirectory(prefix="bench-surfaces-") as tmp, contextlib.ExitStack() as stack:
        fanning_out = stack.enter_context(fan_out(Path(tmp), args.during_fanout)) if args.during_fanout else None
        url = fanning_out.url if fanning_out else f"sqlite:///{Path(tmp) / 'bench.db'}"
        if not fanning_out:
            from broadcaster.store.db import migrate

            migrate(url)
        site = prepare(Path(tmp), url, **(fanning_out.values if fanning_out else {}))
        if fanning_out:
            fanning_out.prepare()
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), url, str(site)], cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            wait_for(port, server)
            rates: dict[str, list[float]] = {path: [] for pair in PAIRS for path in pair}
            asyncio.run(measure(port, PAIRS[0][0], 0.5, args.connections))  # warm up: cache filled, imports done
            if fanning_out:
                fanning_out.start()
            for _ in range(args.rounds):
                for path in rates:
                    rates[path].append(asyncio.run(measure(port, path, args.seconds, args.connections)))
                overlapped += bool(fanning_out and fanning_out.running())
        finally:
            server.terminate()
            server.wait(10)
    print(f"{args.rounds} rounds x {args.seconds:g} s per path, {args.connections} keep-alive connections, "
          "one uvicorn process; median requests/s" +
          (f"; {overlapped} of {args.rounds} rounds ended with the fan-out to {args.during_fanout:,} "
           "subscribers still sending" if args.during_fanout else "; no fan-out running"))
    for app_path, static_path in PAIRS:
        app_rate, static_rate = statistics.median(rates[app_path]), statistics.median(rates[static_path])
        print(f"{app_path:24} {app_rate:8.0f}/s   static {static_rate:8.0f}/s   "
              f"{100 * app_rate / static_rate:5.0f} % of static")


if __name__ == "__main__":
    main()
