"""docker-compose.yml, checked by reading (there is no Docker engine in CI): every service it starts
is named in its header and has a healthcheck (a one-shot says it has none to run), the public service
never gets the secret key, ports and queues are the ones the code uses, and beat's healthcheck reads
the schedule file beat is told to write."""

import re
from pathlib import Path

import yaml

from broadcaster.cli.run import APP_PORT, PUBLIC_PORT
from broadcaster.delivery.broker import Queue

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOTS = {"migrate", "cli"}


def test_every_service_is_named_in_the_header():
    header = (ROOT / "docker-compose.yml").read_text().split("\nx-")[0]
    named = set(re.findall(r"^#   ([a-z-]+) ", header, re.M))
    assert named == set(SERVICES)


def test_every_long_running_service_has_a_healthcheck_and_one_shots_say_they_need_none():
    for name, service in SERVICES.items():
        check = service.get("healthcheck", {})
        if name in ONE_SHOTS:
            assert check == {"disable": True}, name
        else:
            assert check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_the_public_service_never_gets_the_secret_key_and_the_others_that_sign_do():
    assert "BROADCASTER_SECRET_KEY" not in SERVICES["public"]["environment"]
    for name in ("web", "worker", "worker-live", "beat", "migrate"):
        assert SERVICES[name]["environment"]["BROADCASTER_SECRET_KEY"].startswith("${BROADCASTER_SECRET_KEY:?")
    assert all(entry["path"] != ".env" for service in SERVICES.values() for entry in service.get("env_file", []))


def test_ports_healthchecks_and_queues_are_the_codes():
    assert SERVICES["web"]["command"][-1] == str(APP_PORT) and f":{APP_PORT}/healthz" in SERVICES["web"][
        "healthcheck"]["test"][-1]
    assert SERVICES["public"]["command"][-1] == str(PUBLIC_PORT)
    assert f":{PUBLIC_PORT}/banner.json" in SERVICES["public"]["healthcheck"]["test"][-1]
    assert SERVICES["worker-live"]["command"][SERVICES["worker-live"]["command"].index("--queues") + 1] == Queue.LIVE
    for name in ("worker", "worker-live"):
        assert "inspect ping -d celery@$$HOSTNAME" in SERVICES[name]["healthcheck"]["test"][1]
    schedule = SERVICES["beat"]["command"][SERVICES["beat"]["command"].index("--schedule") + 1]
    assert f"glob.glob('{schedule}*')" in SERVICES["beat"]["healthcheck"]["test"][-1]


def test_beat_writes_its_schedule_after_every_task_so_its_healthcheck_can_read_its_age():
    from broadcaster.config import Settings
    from broadcaster.delivery.broker import make_app

    assert make_app(Settings(_env_file=None)).conf.beat_sync_every == 1


def test_the_dockerfile_serves_both_ports():
    assert f"EXPOSE {APP_PORT} {PUBLIC_PORT}" in (ROOT / "Dockerfile").read_text()
