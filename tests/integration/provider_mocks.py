"""The Prism mocks of the providers' OpenAPI specs (`shared/contracts`), shared by every pytest-xdist
worker of a run: started once, used by many, stopped by the last user out.

Prism takes 20-30 s to start. Waited for in the first contract test, that stalled every xdist worker
at once (the contract tests sit side by side and the workers take them together); so a run that will
reach them starts the mocks in the background when it begins (`start_in_background`, from the xdist
controller), and the fixture mostly finds them answering. Both take the same lock, and start-mocks.sh
leaves a running mock alone, so whichever comes first starts them and the other finds them up."""

import fcntl
import os
import shutil
import socket
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve()
CONTRACTS = next((p / "contracts" for p in (HERE.parents[2] / "shared", HERE.parents[3] / "shared")
                  if (p / "contracts" / "start-mocks.sh").exists()), None)
PORTS = {"twilio": 4010, "sendgrid": 4011, "x": 4012}
TESTS = "tests/integration/test_contracts.py"


def unusable() -> str | None:
    """Why the mocks cannot run here, or None."""
    missing = [tool for tool in ("node", "npm") if not shutil.which(tool)]
    if CONTRACTS is None or missing:
        return f"provider contract kit not usable: {'missing ' + ', '.join(missing) if missing else 'no shared/'}"
    return None


def _answering(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _env(run_dir: Path) -> dict[str, str]:
    return os.environ | {"MOCKS_STATE_DIR": str(run_dir / "provider-mocks"), "NO_PROXY": "127.0.0.1,localhost"}


def start_in_background(run_dir: Path, args: list[str]) -> subprocess.Popen | None:
    """Start the mocks without waiting, if this run will reach the contract tests (`args` are the
    run's paths: none, or one the contract tests are under)."""
    if unusable() or not any(TESTS.startswith(a.rstrip("/")) or a.startswith(TESTS) for a in args or ["tests"]):
        return None
    run_dir.mkdir(parents=True, exist_ok=True)
    # --close: the mocks the script leaves running must not inherit the lock, or they hold it for good.
    command = ["flock", "--close", str(run_dir / "provider-mocks.lock"), str(CONTRACTS / "start-mocks.sh")]
    return subprocess.Popen(command, env=_env(run_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_if_unused(run_dir: Path, starting: subprocess.Popen) -> None:
    """At the end of the run: the background start has ended, and if no test used the mocks
    (each user's teardown stops them when it is the last), stop what it started."""
    starting.wait(timeout=600)
    users = run_dir / "provider-mocks-users"
    if not users.exists() or not any(users.iterdir()):
        subprocess.run([str(CONTRACTS / "stop-mocks.sh")], env=_env(run_dir), capture_output=True, timeout=60)


@contextmanager
def mocks_running(run_dir: Path):
    """The mocks up for the duration (started here unless they answer already); raises RuntimeError
    saying why if they cannot start. Mocks running before the run (another session's) are left alone."""
    users = run_dir / "provider-mocks-users"
    users.mkdir(parents=True, exist_ok=True)
    me = users / uuid.uuid4().hex
    env = _env(run_dir)
    with open(run_dir / "provider-mocks.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(_answering(port) for port in PORTS.values()):
            started = subprocess.run([str(CONTRACTS / "start-mocks.sh")], env=env, capture_output=True,
                                     text=True, timeout=600)
            if started.returncode != 0:
                subprocess.run([str(CONTRACTS / "stop-mocks.sh")], env=env, capture_output=True)
                raise RuntimeError(f"start-mocks.sh failed:\n{started.stdout}\n{started.stderr}")
        me.touch()
        fcntl.flock(lock, fcntl.LOCK_UN)
    try:
        yield
    finally:
        with open(run_dir / "provider-mocks.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            me.unlink()
            if not any(users.iterdir()):  # stop-mocks only touches the PIDs we started in `state`
                subprocess.run([str(CONTRACTS / "stop-mocks.sh")], env=env, capture_output=True, timeout=60)
