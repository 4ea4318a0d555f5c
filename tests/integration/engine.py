"""Real parts for delivery tests: `celery worker` processes on a real Redis, the official SDKs
talking HTTP to the fast fake provider, a real database. Nothing of ours is faked."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select

from tests.conftest import add_user, TEST_SECRET_KEY, actor
from broadcaster import people, statements
from broadcaster.config import Settings
from broadcaster.statements import StatementInput
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, Subscriber

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


def provider_settings(fake_url: str) -> dict:
    """Credentials set and every provider pointed at the fake: the official SDKs do the talking."""
    return {
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": "token", "twilio_from": "+15005550006",
        "twilio_api_base": fake_url, "sendgrid_api_key": "SG.test", "sendgrid_host": fake_url,
        "x_consumer_key": "ck", "x_consumer_secret": "cs", "x_access_token": "at", "x_access_token_secret": "ats",
        "x_api_base": fake_url, "twilio_rate": "100000/second", "sendgrid_rate": "100000/second",
        "x_rate": "100000/second",
    }


def as_env(values: dict) -> dict[str, str]:
    return {f"BROADCASTER_{key.upper()}": str(value) for key, value in values.items() if value is not None}


@dataclass
class Workers:
    """`celery worker` processes started with the same settings the test uses."""

    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self, concurrency: int = 2, queues: str = "live,bulk") -> subprocess.Popen:
        n = len(self.processes)
        log = self.logs / f"worker{n}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-Q", queues, "-c", str(concurrency),
             "-n", f"w{n}-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel", "INFO"],
            cwd=ROOT, env={**os.environ, "BROADCASTER_SECRET_KEY": TEST_SECRET_KEY, **self.env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        self.processes.append(proc)
        wait_until(lambda: "ready." in log.read_text() or proc.poll() is not None, 30, f"worker {n} to start")
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

    def stop_all(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def add_subscribers(settings: Settings, n: int, email: bool = True, phone: bool = True, start: int = 0) -> None:
    rows = [{"email": f"customer{i}@example.com" if email else None,
             "phone": f"+1415{2000000 + i:07d}" if phone else None, "locale": "en", "components": []}
            for i in range(start, start + n)]
    with transaction(settings.database_url) as s:
        for part in range(0, len(rows), 1000):
            s.execute(insert(Subscriber), rows[part:part + 1000])


def approved_statement(settings: Settings, headline: str = "Some customers cannot log in",
                       incident_id: int | None = None) -> int:
    """A statement ready to publish; with incident_id, the next version of that incident."""
    for name, role in (("alice", "author"), ("bob", "approver")):
        if name not in {u["name"] for u in people.list_users(settings)}:
            add_user(settings, name, [role])
    if incident_id is None:
        incident_id = statements.open_incident(settings, actor(settings, "alice"), "Login failures", "major", ["Login"])["id"]
    statement = statements.draft(settings, actor(settings, "alice"), incident_id, StatementInput(
        status="investigating", headline=headline, body="About 1 in 5 logins fail.",
        workaround="Use the mobile app", next_update="30m"))
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    statements.approve(settings, actor(settings, "bob"), statement["id"])
    return statement["id"]


def status_counts(settings: Settings, statement_id: int | None = None) -> dict[str, int]:
    with transaction(settings.database_url) as s:
        query = select(Delivery.status, func.count()).group_by(Delivery.status)
        if statement_id is not None:
            query = query.where(Delivery.statement_id == statement_id)
        return dict(s.execute(query).all())


def settled(settings: Settings, statement_id: int) -> bool:
    counts = status_counts(settings, statement_id)
    return not any(counts.get(k, 0) for k in ("pending", "sending", "retry", "unknown"))
