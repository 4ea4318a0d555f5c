"""Servers of a test's own, on free loopback ports, to kill, restart and fail over without touching
anyone else's: a Redis master with a replica and three Sentinels, a PostgreSQL primary with a
streaming replica, a RabbitMQ node. Each is a context manager that stops what it started."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.harness import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def need(binary: str) -> str:
    """The binary's path; a skip when it is absent (a failure in CI, which must run every test)."""
    path = shutil.which(binary) or next((str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{binary}"),
                                                                 reverse=True)), None)
    if path:
        return path
    if os.environ.get("CI"):
        raise AssertionError(f"{binary} is not installed: CI runs every failover test")
    pytest.skip(f"{binary} is not installed")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# --- Redis: a master, a replica, three Sentinels -----------------------------------------------------


def _redis_answers(port: int, *command: str) -> list | str | None:
    import redis

    try:
        return redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1).execute_command(*command)
    except Exception:  # noqa: BLE001 - down, or not yet up
        return None


@dataclass
class SentinelSet:
    directory: Path
    master_name: str = "broadcaster"
    redis_ports: list[int] = field(default_factory=list)
    sentinel_ports: list[int] = field(default_factory=list)
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return ";".join(f"sentinel://127.0.0.1:{port}" for port in self.sentinel_ports) + "/0"

    def _redis(self, port: int, *extra: str) -> None:
        command = [need("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                   "no", "--dir", str(self.directory), "--dbfilename", f"dump{port}.rdb", *extra]
        self.processes[port] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _redis_answers(port, "PING"), 60, f"redis on {port}")

    def start(self) -> "SentinelSet":
        master, replica = free_port(), free_port()
        self.redis_ports = [master, replica]
        self._redis(master, "--repl-diskless-sync-delay", "0")
        self._redis(replica, "--replicaof", "127.0.0.1", str(master), "--repl-diskless-sync-delay", "0")
        wait_until(lambda: (_redis_answers(replica, "INFO", "replication") or {}).get("master_link_status") == "up",
                   60, "the replica to sync")
        for _ in range(3):
            port = free_port()
            conf = self.directory / f"sentinel{port}.conf"
            conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                            f"sentinel monitor {self.master_name} 127.0.0.1 {master} 2\n"
                            f"sentinel down-after-milliseconds {self.master_name} 1000\n"
                            f"sentinel failover-timeout {self.master_name} 10000\n")
            self.processes[port] = subprocess.Popen([need("redis-server"), str(conf), "--sentinel"],
                                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.sentinel_ports.append(port)

        def acquainted() -> bool:  # a failover needs every Sentinel to know the replica and the others
            return all(len(_redis_answers(p, "SENTINEL", "REPLICAS", self.master_name) or []) == 1
                       and len(_redis_answers(p, "SENTINEL", "SENTINELS", self.master_name) or []) == 2
                       for p in self.sentinel_ports)

        wait_until(acquainted, 30, "the Sentinels to know the replica and each other", poll=0.2)
        return self

    def master_port(self) -> int | None:
        answer = _redis_answers(self.sentinel_ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name)
        return int(answer[1]) if answer else None

    def kill_master(self) -> int:
        port = self.master_port()
        _stop(self.processes[port], signal.SIGKILL)
        return port

    def stop(self) -> None:
        for proc in self.processes.values():
            _stop(proc)


@contextlib.contextmanager
def sentinel_set(directory: Path) -> Iterator[SentinelSet]:
    servers = SentinelSet(directory)
    try:
        yield servers.start()
    finally:
        servers.stop()


# --- RabbitMQ: a node of the test's own ---------------------------------------------------------------


@dataclass
class RabbitNode:
    """A RabbitMQ node on free ports, its files in `directory`, no plugins; the machine's epmd."""

    directory: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def env(self) -> dict[str, str]:
        (self.directory / "plugins").write_text("[].\n")
        return {**os.environ, "HOME": str(self.directory), "RABBITMQ_NODENAME": f"broadcaster{self.port}@localhost",
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(self.directory / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.directory / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.directory / "plugins"),
                "RABBITMQ_PID_FILE": str(self.directory / "pid"),
                "RABBITMQ_CONFIG_FILE": str(self.directory / "rabbitmq"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.directory / "advanced.config"),
                "RABBITMQ_CONF_ENV_FILE": str(self.directory / "rabbitmq-env.conf")}

    def start(self) -> "RabbitNode":
        server = next((p for p in ("/usr/lib/rabbitmq/bin/rabbitmq-server",) if Path(p).exists()), None)
        server = server or need("rabbitmq-server")
        self.process = subprocess.Popen([server], env=self.env(), cwd=self.directory, start_new_session=True,
                                        stdout=(self.directory / "out.log").open("a"), stderr=subprocess.STDOUT)
        wait_until(self.answers, 90, "RabbitMQ to start", poll=0.25)
        return self

    def answers(self) -> bool:
        import kombu

        try:
            with kombu.Connection(self.url, connect_timeout=1) as connection:
                connection.connect()
                return True
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def kill(self) -> None:
        """SIGKILL the node (every process of it): a crash, not a goodbye."""
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def rabbit_node(directory: Path) -> Iterator[RabbitNode]:
    directory.mkdir(parents=True, exist_ok=True)
    node = RabbitNode(directory)
    try:
        yield node.start()
    finally:
        node.stop()


# --- PostgreSQL: a primary, and a streaming replica -------------------------------------------------------


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: as the `postgres` user then."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120, **kwargs)


@dataclass
class PostgresServers:
    """PostgreSQL clusters of the test's own, in a directory the `postgres` user owns."""

    directory: Path
    ports: dict[str, int] = field(default_factory=dict)

    def data(self, name: str) -> Path:
        return self.directory / name

    def url(self, *names: str, database: str = "postgres") -> str:
        """A SQLAlchemy URL naming these servers, the primary found by libpq (`read-write`)."""
        hosts = "&".join(f"host=127.0.0.1:{self.ports[name]}" for name in names)
        return f"postgresql+psycopg://postgres@/{database}?{hosts}&target_session_attrs=read-write"

    def init(self, name: str = "primary") -> None:
        _as_postgres([need("initdb"), "-D", str(self.data(name)), "-U", "postgres", "-A", "trust", "--no-sync"])
        self.ports[name] = free_port()
        settings = {"listen_addresses": "'127.0.0.1'", "unix_socket_directories": f"'{self.directory}'",
                    "fsync": "off",  # a process that dies loses nothing; only the machine's crash would
                    "max_connections": "100", "shared_buffers": "32MB", "wal_keep_size": "256MB"}
        with (self.data(name) / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def replicate(self, primary: str = "primary", name: str = "replica") -> None:
        _as_postgres([need("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.ports[primary]), "-U", "postgres",
                      "-D", str(self.data(name)), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"])
        self.ports[name] = free_port()

    def synchronous(self, primary: str = "primary") -> None:
        """A commit returns once a replica has it: a failover loses no committed write."""
        self.sql(primary, "ALTER SYSTEM SET synchronous_standby_names = '*'")
        self.sql(primary, "SELECT pg_reload_conf()")

    def start(self, name: str) -> None:
        _as_postgres([need("pg_ctl"), "-D", str(self.data(name)), "-o", f"-p {self.ports[name]}", "-l",
                      str(self.directory / f"{name}.log"), "-w", "-t", "60", "start"])

    def stop(self, name: str, mode: str = "fast") -> None:
        """`immediate`: the server dies at once, no checkpoint, every connection cut (a crash)."""
        _as_postgres([need("pg_ctl"), "-D", str(self.data(name)), "-m", mode, "-w", "stop"])

    def promote(self, name: str) -> None:
        _as_postgres([need("pg_ctl"), "-D", str(self.data(name)), "-w", "promote"])

    def sql(self, name: str, query: str, database: str = "postgres") -> str:
        return _as_postgres([need("psql"), "-h", "127.0.0.1", "-p", str(self.ports[name]), "-U", "postgres", "-At",
                             "-d", database, "-c", query]).stdout.strip()

    def stop_all(self) -> None:
        for name in self.ports:
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                if (self.data(name) / "postmaster.pid").exists():
                    self.stop(name, "immediate")


@contextlib.contextmanager
def postgres_servers() -> Iterator[PostgresServers]:
    import tempfile

    need("initdb")
    directory = Path(tempfile.mkdtemp(prefix="broadcaster-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    servers = PostgresServers(directory)
    try:
        yield servers
    finally:
        servers.stop_all()
        shutil.rmtree(directory, ignore_errors=True)
