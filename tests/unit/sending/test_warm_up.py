"""A sending process warms up before its first send (delivery/warm.py): the lazy imports a first
publish or chunk would pay are done, and nothing is connected to (a web process or worker starting
while the database or the broker is down must still start)."""

import json
import subprocess
import sys

from tests.integration.engine import as_env, provider_settings

CHILD = """
import json, sys
connects = []  # every connection a Python socket attempts (redis, kombu, the SDKs' HTTP clients)
sys.addaudithook(lambda event, args: event == "socket.connect" and connects.append(repr(args[1])))
from broadcaster.config import Settings
from broadcaster.delivery.warm import warm_up
before = set(sys.modules)
warm_up(Settings(_env_file=None))
print(json.dumps({"loaded": sorted(set(sys.modules) - before), "connects": connects}))
"""


def test_warm_up_loads_the_sdks_the_driver_and_the_transport_and_connects_to_nothing():
    # Nothing listens on port 9 (discard) of loopback: a connection attempt would fail or hang.
    values = {**provider_settings("http://127.0.0.1:9"), "secret_key": "k" * 40,
              "database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none", "broker_url": "redis://127.0.0.1:9/0"}
    # Its imports take a few CPU-seconds, and minutes of waiting on a machine as busy as CI's: how long it
    # took says nothing; the connections it tried are watched instead (a refused one would fail it).
    done = subprocess.run([sys.executable, "-c", CHILD], env={**as_env(values), "PATH": ""}, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    child = json.loads(done.stdout)
    loaded = set(child["loaded"])
    for module in ("psycopg", "twilio.rest.api.v2010.account.message", "sendgrid", "kombu.transport.redis"):
        assert module in loaded, f"{module} was left for the first send"
    assert child["connects"] == []
