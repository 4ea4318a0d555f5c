"""Real processes for the delivery tests and the benchmarks alike: `celery worker` subprocesses,
waiting for a condition, subscribers written in bulk. One copy, so what the tests prove is what
the benchmarks measure."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from broadcaster.delivery.broker import EVERY_QUEUE

ROOT = Path(__file__).resolve().parents[1]
# Workers refuse to start with the default secret key; tests and benchmarks use this one.
TEST_SECRET_KEY = "test-secret-key-not-for-production"


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def phone_number(i: int) -> str:
    return f"+1415{2000000 + i:07d}"


def email_address(i: int) -> str:
    return f"customer{i}@example.com"


def add_subscribers(settings, n: int, email: bool = True, phone: bool = True, start: int = 0,
                    components: tuple[str, ...] = ()) -> None:
    """Written 5,000 at a time: a benchmark of a million never holds a million rows."""
    from sqlalchemy import insert

    from broadcaster.store.db import transaction
    from broadcaster.store.models import Subscriber

    for first in range(start, start + n, 5000):
        rows = [{"email": email_address(i) if email else None, "phone": phone_number(i) if phone else None,
                 "locale": "en", "components": list(components)} for i in range(first, min(start + n, first + 5000))]
        with transaction(settings.database_url) as s:
            s.execute(insert(Subscriber), rows)


def _status_kb(pid: int, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmHWM") / 1024


def children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A preexec_fn: the worker gets `sig` if whoever started it dies (PR_SET_PDEATHSIG)."""
    import ctypes

    return lambda: ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)


@dataclass
class Workers:
    """`celery worker` subprocesses, each in its own process group, with the given environment."""

    env: dict[str, str]
    logs: Path
    app: str = "workers.app"
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self, concurrency: int = 2, queues: str = EVERY_QUEUE, app: str | None = None,
              loglevel: str = "INFO", ready: str = "ready.", timeout: float = 60,
              env: dict[str, str] | None = None, parent_death_signal: int = signal.SIGTERM) -> subprocess.Popen:
        n, app = len(self.processes), app or self.app
        log = self.logs / f"{app.replace('.', '_')}{n}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queues, "-c", str(concurrency),
             "-n", f"w{n}-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel", loglevel],
            cwd=ROOT, env={**os.environ, "BROADCASTER_SECRET_KEY": TEST_SECRET_KEY, **self.env, **(env or {})},
            stdout=log.open("w"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent(parent_death_signal))
        proc.log_path = log
        self.processes.append(proc)
        wait_until(lambda: ready in log.read_text() or proc.poll() is not None, timeout, f"worker {n} to start")
        assert proc.poll() is None, log.read_text()[-3000:]
        return proc

    def restart_dead(self) -> int:
        """What a supervisor (compose's `restart: unless-stopped`) does for a worker that exited."""
        dead = [p for p in self.processes if p.poll() is not None and not getattr(p, "replaced", False)]
        for proc in dead:
            proc.replaced = True
            self.start()
        return len(dead)

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool children: no goodbye, mid-call."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.replaced = True

    def peak_rss(self) -> list[tuple[float, list[float]]]:
        """Per worker: (main process VmHWM, [pool children's VmHWM]) in MB; read while they run."""
        return [(peak_rss_mb(p.pid), [peak_rss_mb(c) for c in children(p.pid)]) for p in self.processes]

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(self.logs.glob("*.log")))

    def stop_all(self) -> None:
        stop_process_groups(self.processes)
        self.processes.clear()


def stop_process_groups(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each process group still running (SIGCONT first: a parked, stopped one would never act on
    it), then SIGKILL what has not exited within 20 s."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
