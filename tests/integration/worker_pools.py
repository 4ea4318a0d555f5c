"""`celery worker` processes handed from one test to the next of a pytest process, when the next test
asks for workers started exactly as the last one's were. A start costs two to three seconds of CPU and,
on two busy cores, five to fifteen of waiting for `ready.`; the delivery tests start one or two each.

A worker reads its settings once, from its environment: a pool is handed on only to a test with the very
same environment (database URL, broker URL, every setting) and start arguments, so the tests that may
take one keep a database of the pytest process's own, emptied between tests like the PostgreSQL one
(`database_url` in tests/conftest.py), and `redis_broker` empties its Redis database without the queue
bindings the running workers declared at their start.

A pool is kept only once idle: nothing on its broker's queues and nothing unacknowledged (tasks are acked
late, so a task running or reserved, with a countdown too, is unacknowledged until it ends). A kept pool
is parked: its process group stopped (SIGSTOP), so it takes no task of a test that runs without it, and
its pending BRPOP answered at once (CLIENT UNBLOCK), so no stopped process pops a message. Anything else
(a worker killed, dead or still busy) stops the processes, as every test did before."""

import atexit
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

import redis

from broadcaster.delivery.broker import EVERY_QUEUE
from tests.harness import Workers, stop_process_groups

KEPT_WORKERS = 2  # parked per pytest process: the last pools of a file's tests on SQLite and on PostgreSQL
IDLE_SECONDS = 5.0  # how long a test's end waits for its workers' last acks before stopping them instead
# Caches a worker holds for a moment (a paused channel for a second, broadcaster.delivery.pause) must not
# carry one test's state into the next: a parked worker resumes no sooner than this after it was parked.
QUIET_SECONDS = 1.0
UNACKED = "unacked"  # kombu's Redis transport: a hash of the messages delivered and not yet acknowledged


@dataclass
class Parked:
    key: tuple
    proc: subprocess.Popen
    since: float


class Keeper:
    """The parked workers of one pytest process (the session's `worker_keeper` fixture)."""

    def __init__(self) -> None:
        self.parked: list[Parked] = []
        self.started = self.reused = 0
        atexit.register(self.close)  # a pytest that dies of an exception leaves no stopped process behind

    def take(self, key: tuple) -> subprocess.Popen | None:
        for parked in self.parked:
            if parked.key == key and parked.proc.poll() is None:
                self.parked.remove(parked)
                time.sleep(max(0.0, parked.since + QUIET_SECONDS - time.monotonic()))
                os.killpg(parked.proc.pid, signal.SIGCONT)
                self.reused += 1
                return parked.proc
        return None

    def park(self, procs: list[subprocess.Popen], keys: dict[int, tuple], broker_url: str) -> bool:
        """Park `procs` once their broker is idle; False (the caller stops them) if it is not."""
        if not broker_url.startswith("redis://"):
            return False
        client = redis.Redis.from_url(broker_url)
        try:
            if not _settles(client):
                return False
            for proc in procs:
                os.killpg(proc.pid, signal.SIGSTOP)
            index = client.connection_pool.connection_kwargs.get("db", 0)
            for waiting in client.client_list():
                if int(waiting.get("db", -1)) == index and waiting.get("cmd") in ("brpop", "blpop", "bzpopmin"):
                    client.client_unblock(waiting["id"])
            if not _idle(client):  # a message popped between the last look and the stop
                for proc in procs:
                    os.killpg(proc.pid, signal.SIGCONT)
                return False
        except (redis.RedisError, ProcessLookupError):
            return False
        finally:
            client.close()
        now = time.monotonic()
        self.parked.extend(Parked(keys[proc.pid], proc, now) for proc in procs)
        while len(self.parked) > KEPT_WORKERS:
            stop_process_groups([self.parked.pop(0).proc])
        return True

    def close(self) -> None:
        stop_process_groups([parked.proc for parked in self.parked])
        self.parked.clear()


def _idle(client: redis.Redis) -> bool:
    if client.hlen(UNACKED):
        return False
    return not any(client.llen(key) for key in client.scan_iter(_type="LIST", count=1000))


def _settles(client: redis.Redis) -> bool:
    """Idle twice in a row, within IDLE_SECONDS: a task that enqueues another (a fan-out, its chunks)
    does so before its own ack, so one of the two always shows."""
    deadline = time.monotonic() + IDLE_SECONDS
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if _idle(client) else 0
        if quiet == 2:
            return True
        time.sleep(0.05)
    return False


@dataclass
class KeptWorkers(Workers):
    """`Workers` whose `start` takes a parked worker started with the same arguments and environment if
    the keeper has one, and whose `stop_all` parks them if the test left them whole and idle."""

    keeper: Keeper | None = None  # the session's (`worker_keeper`)
    keys: dict[int, tuple] = field(default_factory=dict)
    killed: bool = False

    def start(self, concurrency: int = 2, queues: str = EVERY_QUEUE, app: str | None = None,
              loglevel: str = "INFO", ready: str = "ready.", timeout: float = 60,
              env: dict[str, str] | None = None, parent_death_signal: int = signal.SIGKILL) -> subprocess.Popen:
        environment = {**os.environ, **self.env, **(env or {})}
        environment.pop("PYTEST_CURRENT_TEST", None)  # pytest's own, a different one in every test
        key = (concurrency, queues, app or self.app, loglevel, ready, tuple(sorted(environment.items())))
        proc = self.keeper.take(key)
        if proc is None:
            # SIGKILL when pytest dies: SIGTERM would wait, pending, on a parked (stopped) worker for ever.
            proc = super().start(concurrency, queues, app, loglevel, ready, timeout, env, signal.SIGKILL)
            self.keeper.started += 1
        else:
            self.processes.append(proc)
        self.keys[proc.pid] = key
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        self.killed = True  # its unacknowledged tasks wait for the visibility timeout: nothing here is idle
        super().kill(proc)

    def log_tail(self) -> str:
        logs = sorted({*self.logs.glob("*.log"), *(p.log_path for p in self.processes)})
        return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in logs)

    def stop_all(self) -> None:
        whole = self.processes and not self.killed and all(p.poll() is None for p in self.processes)
        if whole and self.keeper.park(self.processes, self.keys, self.env.get("BROADCASTER_BROKER_URL", "")):
            self.processes.clear()
            return
        super().stop_all()
