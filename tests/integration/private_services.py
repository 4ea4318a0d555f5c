"""Services of a test's own on free loopback ports, to stop and start at will (never the shared ones):
a Redis server, a PostgreSQL cluster (`initdb` and `pg_ctl`, run as the `postgres` user when the
tests run as root), and a `broadcaster serve --public` process."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests import loopback
from tests.harness import ROOT, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 60, f"redis-server on {self.port}", poll=0.02)
        return self

    def answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class PrivatePostgres:
    """A throwaway cluster in a directory of its own under /tmp (the `postgres` user must reach it,
    and pytest's temporary directories are root's alone); `url` reaches its database `broadcaster`."""

    def __init__(self):
        self.directory, self.port = Path(tempfile.mkdtemp(prefix="broadcaster-pg-")), free_port()
        self.data = self.directory / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/broadcaster"
        self.bin = next(Path("/usr/lib/postgresql").glob("*/bin"), None)

    def available(self) -> bool:
        return self.bin is not None and (os.geteuid() != 0 or shutil.which("runuser") is not None)

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*as_postgres, *command], check=check, capture_output=True, text=True, timeout=60)

    def create(self) -> "PrivatePostgres":
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        self.start()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "broadcaster")
        return self

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.directory / "log"),
                  "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class PublicServer:
    """`broadcaster serve --public` in a process of its own, with `env` (BROADCASTER_* values)."""

    def __init__(self, env: dict[str, str], logs: Path, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log, self.workers = env, logs / f"public-{self.port}.log", workers
        self.process: subprocess.Popen | None = None

    def start(self) -> "PublicServer":
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from broadcaster.cli import main; main()", "serve", "--public",
             "--port", str(self.port), *(["--workers", str(self.workers)] if self.workers > 1 else [])],
            cwd=ROOT, env={**os.environ, **self.env}, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until(self.answers, 120, f"serve --public on {self.port}", poll=0.05)
        return self

    def answers(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        try:
            return loopback.get(self.url + "/banner.json", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(5)


def until(predicate, timeout: float, poll: float = 0.005) -> float:
    """Seconds until `predicate()` is true (AssertionError after `timeout`)."""
    started = time.monotonic()
    wait_until(predicate, timeout, "the condition", poll=poll)
    return time.monotonic() - started
