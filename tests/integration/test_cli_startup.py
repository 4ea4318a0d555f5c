"""A `broadcaster` process loads what its command needs and no more: `--help` none of the database,
the settings or the web, a command that reads the database none of the broker, the web app, the HTTP
clients or the providers' SDKs (a process used to spend a second of CPU importing all of it before
doing anything; the README's tour is fifteen such processes). Nor does a command that writes and
raises an event no endpoint asked for (`user add`, `incident open`): no email or phone validation it
does not do, no table module it does not use, not the PostgreSQL dialect on SQLite, not the channels
and broker an event would be sent through. One subprocess, a fresh interpreter."""

import json
import os
import shutil
import subprocess
import sys

from tests.harness import TEST_SECRET_KEY

WATCHED = ("sqlalchemy", "pydantic", "pydantic_settings", "celery", "kombu", "fastapi", "starlette", "uvicorn",
           "httpx", "requests", "redis", "yaml", "twilio", "slack_sdk", "tweepy", "sendgrid", "twitter_text",
           "broadcaster.web", "broadcaster.events.endpoints", "broadcaster.delivery.broker",
           "email_validator", "phonenumbers", "sqlalchemy.dialects.postgresql", "broadcaster.delivery.messages",
           "broadcaster.store.social_models", "broadcaster.store.alert_models", "broadcaster.store.postmortem_models")
# What reading or writing the database needs: the store and the settings.
READING_NEEDS = {"sqlalchemy", "pydantic", "pydantic_settings"}
COMMANDS = (["--help"], ["incident", "list", "--json"], ["user", "add", "root", "--role", "admin", "--role", "author"],
            ["incident", "open", "--title", "Outage", "--impact", "minor", "--as", "root"])

PROBE = f"""
import json, sys
from broadcaster.cli import main

loaded = {{}}
for args in {COMMANDS!r}:
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
    loaded[" ".join(args[:2])] = [m for m in {WATCHED!r} if m in sys.modules]
print(json.dumps(loaded))
"""


def test_help_and_data_commands_load_only_what_they_use(tmp_path, sqlite_template):
    shutil.copy(sqlite_template, tmp_path / "b.db")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")},  # the run's bytecode cache
           "BROADCASTER_DATABASE_URL": f"sqlite:///{tmp_path}/b.db", "BROADCASTER_SECRET_KEY": TEST_SECRET_KEY}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert loaded["--help"] == []
    assert set(loaded["incident list"]) <= READING_NEEDS, loaded["incident list"]
    assert "sqlalchemy" in loaded["incident list"]  # it did read the database
    # Each entry is what the process had loaded by then: the writing commands' too.
    assert set(loaded["incident open"]) <= READING_NEEDS, loaded["incident open"]
    assert "incident 1" in done.stdout  # it did open one (and raise incident.opened)
