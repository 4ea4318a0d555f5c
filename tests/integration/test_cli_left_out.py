"""`broadcaster publish` says which subscribers' channel a version is not sent to, and why, in the
words the dashboard's Consistency page uses (templates/_web/dashboard/_left_out.txt): an update
printed "fanning out to email, webhook subscribers" and SMS was silently not there."""

import html
import re

import pytest
from fastapi.testclient import TestClient

from broadcaster.people import auth
from tests.conftest import make_settings
from tests.integration.test_cli import run  # noqa: F401 - the fixture: `broadcaster ...` in this process

SMS_LEFT_OUT = ("the notify rules leave it out: SMS gets open and resolved, and this one is an update "
                "(BROADCASTER_SMS_NOTIFY_ON)")


def _publish_an_update(run):  # noqa: F811
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("user", "add", "bob", "--role", "approver", "--as", "root")
    run("subscribers", "add", "--email", "c@example.com", "--phone", "+14155550123", "--as", "root")
    run("incident", "open", "--title", "Login failures", "--impact", "minor", "--as", "alice")
    said = []
    for statement_id, status, body in ((1, "investigating", "We are investigating."),
                                       (2, "monitoring", "A fix is in place; we are watching it.")):
        run("statement", "draft", "1", "--status", status, "--headline", "Logins fail", "--body", body,
            "--as", "alice")
        run("submit", str(statement_id), "--as", "alice")
        run("approve", str(statement_id), "--as", "bob")
        said.append(run("publish", str(statement_id), "--as", "alice").stdout)
    return said


@pytest.mark.parametrize("backend", ["sqlite"])  # the CLI's and the page's words: one backend says them
def test_publish_names_each_left_out_channel_with_the_consistency_pages_reason(run, database_url, backend):  # noqa: F811
    opening, update = _publish_an_update(run)
    assert "fanning out to email, sms, webhook subscribers" in " ".join(opening.split())
    assert "not sent to" not in opening  # the opening goes to every subscribers' channel
    update = " ".join(update.split())
    assert "fanning out to email, webhook subscribers" in update
    assert f"not sent to sms subscribers: {SMS_LEFT_OUT}" in update

    from broadcaster.web.app import create_app

    settings = make_settings(database_url)
    auth.set_password(settings, "alice", "correct horse battery")
    client = TestClient(create_app(settings))
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/login", data={"name": "alice", "password": "correct horse battery", "csrf_token": token,
                                "next": "/dashboard"})
    page = html.unescape(re.sub(r"<[^>]+>", "", client.get("/dashboard/consistency").text))
    assert SMS_LEFT_OUT in " ".join(page.split())
