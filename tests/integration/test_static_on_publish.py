"""The static export follows every switch of a live surface: publish (sent in this process, the
real path) rewrites BROADCASTER_STATIC_DIR, and an export that fails never fails the send."""

import json
import logging
import subprocess
import sys

import pytest

from broadcaster.surfaces import register_switch_hooks
from tests.conftest import make_settings
from tests.integration.engine import status_counts
from tests.integration.surfaces_data import open_incident, publish_update


@pytest.fixture(autouse=True)
def _static_export_registered():
    """What every sending process does when it is assembled (the worker app, embedded serve, ...)."""
    register_switch_hooks()


def test_importing_registers_nothing_and_registering_twice_runs_the_export_once():
    code = ("import broadcaster.surfaces, broadcaster.web.app, broadcaster.cli\n"
            "from broadcaster.delivery.dispatch import surface_switch_hooks\n"
            "before = surface_switch_hooks()\n"
            "broadcaster.surfaces.register_switch_hooks(); broadcaster.surfaces.register_switch_hooks()\n"
            "print(len(before), [h.__name__ for h in surface_switch_hooks()])\n")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "0 ['export_if_configured', 'notify_public_servers']"


def test_the_worker_app_registers_the_static_export():
    code = ("import workers.app\nfrom broadcaster.delivery.dispatch import surface_switch_hooks\n"
            "print([h.__name__ for h in surface_switch_hooks()])\n")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "['export_if_configured', 'notify_public_servers']"


def test_publishing_rewrites_the_static_export(database_url, tmp_path):
    settings = make_settings(database_url, static_dir=tmp_path / "site")
    incident = open_incident(settings)
    publish_update(settings, incident, headline="Logins fail")
    banner = json.loads((tmp_path / "site" / "banner.json").read_text())
    assert "Logins fail" in banner["text"]
    assert b"Logins fail" in (tmp_path / "site" / "status" / "index.html").read_bytes()
    publish_update(settings, incident, status="resolved", headline="Logins work again")
    over = json.loads((tmp_path / "site" / "banner.json").read_text())  # says it is over, until show_until
    assert over["text"].startswith("Resolved: Logins work again.") and over["show_until"]
    assert b"Logins work again" in (tmp_path / "site" / "feed.atom").read_bytes()


def test_a_failing_export_is_logged_and_the_send_still_counts(database_url, tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the export directory should be")
    settings = make_settings(database_url, static_dir=blocker)
    incident = open_incident(settings)
    with caplog.at_level(logging.ERROR, logger="broadcaster.sending"):
        statement = publish_update(settings, incident)
    assert "static export" in caplog.text
    counts = status_counts(settings, statement)
    assert counts.get("failed", 0) == 0 and counts.get("simulated", 0) + counts.get("sent", 0) >= 3


def test_without_a_static_dir_nothing_is_written(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = make_settings(database_url)
    publish_update(settings, open_incident(settings))
    assert not any(p.name == "banner.json" for p in tmp_path.rglob("*"))
