"""Start the fake provider in a subprocess for a test or a benchmark.

    with running_fake(rate_limit=100) as fake:
        client = twilio.rest.Client("AC" + "0" * 32, "token")
        client.api.base_url = fake.url
        ...
        assert fake.counts()["sms"] == {"+15005550006": 1}
        fake.faults(fail_next=3, status=429, retry_after=1)
        fake.reset()
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests import loopback

REPO_ROOT = Path(__file__).resolve().parents[2]
_READY_PREFIX = "fake provider listening on "


class FakeProviderServer:
    """A running fake: its ``url`` and its control endpoints."""

    def __init__(self, url: str, process: subprocess.Popen):
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.process = process
        self._http = loopback.client(base_url=url, trust_env=False, timeout=30)

    def counts(self) -> dict:
        """What the fake received: sms {to: n}, email {address: n}, x [posts], requests, status_counts, ..."""
        return self._control("GET", "/_counts")

    def totals(self) -> dict:
        """How many messages it accepted in all: {"sms": n, "calls": n, "email": n, "requests": n}."""
        return self._control("GET", "/_totals")

    def messages(self) -> dict:
        """Every accepted message in full: {"sms": [...], "email": [...], "x": [...]}."""
        return self._control("GET", "/_messages")

    def reset(self) -> None:
        """Forget every message, count and fault."""
        self._control("POST", "/_reset")

    def faults(self, **spec) -> dict:
        """Script failures, e.g. ``faults(fail_next=50, status=500)``, ``faults(invalid_numbers=[...])``,
        ``faults(delay_ms=20)``, ``faults(rate_limit=100)``, ``faults(clear=True)``; returns the faults in force."""
        return self._control("POST", "/_faults", json=spec)

    def _control(self, method: str, path: str, **kwargs) -> dict:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()


def _read_ready_line(process: subprocess.Popen, deadline: float) -> str:
    assert process.stdout is not None
    buffer = b""
    fd = process.stdout.fileno()
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the fake provider did not start in time")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"the fake provider exited at start (code {process.wait()})")
            buffer += chunk
    line = buffer.split(b"\n", 1)[0].decode()
    if not line.startswith(_READY_PREFIX):
        raise RuntimeError(f"unexpected output from the fake provider: {line!r}")
    return line[len(_READY_PREFIX):].split()[0]


@contextmanager
def running_fake(port: int = 0, rate_limit: float | None = None, http: str = "auto",
                 startup_timeout: float = 60.0) -> Iterator[FakeProviderServer]:
    """Run ``python -m tests.fakes.provider`` on 127.0.0.1 (``port=0``: a free port the server picks itself,
    so parallel test workers never collide) until the block ends."""
    command = [sys.executable, "-m", "tests.fakes.provider", "--port", str(port), "--http", http]
    if rate_limit is not None:
        command += ["--rate-limit", str(rate_limit)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    server = None
    try:
        deadline = time.monotonic() + startup_timeout
        url = _read_ready_line(process, deadline)
        server = FakeProviderServer(url, process)
        while True:
            try:
                server.counts()
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError(f"the fake provider exited at start (code {process.returncode})") from None
                if time.monotonic() > deadline:
                    raise TimeoutError("the fake provider did not answer /_counts in time") from None
                time.sleep(0.02)
        yield server
    finally:
        if server is not None:
            server.close()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
