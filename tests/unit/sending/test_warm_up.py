"""A sending process warms up before its first send (delivery/warm.py): the lazy imports a first
publish or chunk would pay are done, and nothing is connected to (a web process or worker starting
while the database or the broker is down must still start)."""

import json
import socket
import subprocess
import sys

import pytest

from tests.integration.engine import as_env, provider_settings

CHILD = """
import json, sys
from broadcaster.config import Settings
from broadcaster.delivery.warm import warm_up
before = set(sys.modules)
warm_up(Settings(_env_file=None))
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_warm_up_loads_the_sdks_the_driver_and_the_transport_and_connects_to_nothing():
    # The database, the broker and every provider are a loopback port that only listens: whatever dials
    # it is queued there, to be found below (the DB driver dials from C, so a Python socket patch would miss
    # it). A wall-clock bound stood for "connects to nothing" here and failed on a busy CI machine, where
    # its imports can take minutes of waiting.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        values = {**provider_settings(f"http://127.0.0.1:{port}"), "secret_key": "k" * 40,
                  "database_url": f"postgresql+psycopg://nobody@127.0.0.1:{port}/none",
                  "broker_url": f"redis://127.0.0.1:{port}/0"}
        done = subprocess.run([sys.executable, "-c", CHILD], env={**as_env(values), "PATH": ""},
                              capture_output=True, text=True, timeout=600)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing is waiting to be accepted: nobody dialled
            listener.accept()
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout))
    for module in ("psycopg", "twilio.rest.api.v2010.account.message", "sendgrid", "kombu.transport.redis"):
        assert module in loaded, f"{module} was left for the first send"
