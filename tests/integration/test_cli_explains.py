"""A CLI that explains itself: help grouped by task, every command that changes data asks who you
are (and the use case checks the role), the public server on its own port, and the local ways in to
the flows that need a provider: an approval link minted on the server, a simulated call through the
phone line."""

import re
from urllib.parse import urlparse

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select

from broadcaster.cli import app as cli_app
from broadcaster.cli.common import PANELS
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, CallbackRequest
from tests.conftest import make_settings
from tests.integration.cli_tree import leaf_commands
from tests.integration.test_cli import run  # noqa: F401 - the fixture: `broadcaster ...` in this process

WHO = "error: who: say who you are with --as NAME or BROADCASTER_USER"
# Commands that change nothing in the database, or run before any user can exist: no --as.
NO_ACTOR = {"init", "serve", "worker", "beat", "demo", "export", "log", "status", "audit", "preview",
            "incident list", "statement list", "statement show", "component list", "holding list", "social inbox",
            "user list", "token list", "phone call", "wording", "template list", "template show", "alert groups",
            "alert source list", "alert rule list", "postmortem preview", "stakeholders list", "subscribers list"}


def test_every_command_either_takes_as_or_changes_no_data():
    missing = [name for name, command in leaf_commands()
               if name not in NO_ACTOR and not any("--as" in p.opts for p in command.params)]
    assert missing == []
    assert {name for name, _ in leaf_commands()} >= NO_ACTOR  # the list names real commands


def test_help_groups_every_command_by_task_operations_last(run):  # noqa: F811
    root = typer.main.get_command(cli_app)
    assert {name: getattr(c, "rich_help_panel", None) in PANELS for name, c in root.commands.items()} == {
        name: True for name in root.commands}
    shown = run("--help").stdout
    titles = [t.strip() for t in re.findall(r"╭─ (.+?) ─", shown)]
    assert titles == ["Options", *PANELS]
    assert PANELS[0] == "Incidents and statements" and PANELS[-1] == "Operations"
    incidents = shown.split("Incidents and statements")[1].split("╰")[0]
    assert [line.split()[1] for line in incidents.splitlines()[1:] if line.strip("│ ")][:5] == [
        "incident", "statement", "preview", "submit", "publish"]


def _people(run):  # noqa: F811
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("user", "add", "bob", "--role", "approver", "--as", "root")
    run("user", "add", "carol", "--role", "approver", "--as", "root")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", "--as", "alice")
    run("submit", "1", "--as", "alice")


ASKS_WHO = [
    ["incident", "open", "--title", "X", "--impact", "minor"], ["statement", "draft", "1", "--headline", "H"],
    ["statement", "edit", "1", "--headline", "H"], ["submit", "1"], ["approve", "1"], ["reject", "1", "--reason", "r"],
    ["withdraw", "1"], ["publish", "1"], ["retry", "1", "--failed"], ["sweep"], ["maintenance", "publish-due"],
    ["maintenance", "schedule", "--title", "T", "--start", "2099-01-01T00:00+00:00", "--end",
     "2099-01-01T01:00+00:00", "--body", "B"],
    ["holding", "keep", "1"], ["holding", "links", "1"], ["holding", "activate", "1"],
    ["subscribers", "add", "--email", "c@example.com"], ["subscribers", "import", "subscribers.csv"],
    ["subscribers", "remove", "1"],
    ["component", "add", "API"], ["user", "add", "zed", "--role", "author"],
    ["user", "roles", "bob", "--role", "author"], ["user", "slack", "bob", "UBOB000001"], ["user", "passwd"],
    ["user", "pin"],
    ["token", "create", "--role", "author"], ["token", "revoke", "1"],
    ["social", "pull"], ["social", "search", "down"], ["social", "reply", "1"],
    ["social", "approve", "1", "--hash", "abc"], ["social", "skip", "1"], ["approval", "link", "1"],
    ["template", "add", "--file", "t.yaml"], ["template", "change", "t", "--file", "t.yaml"],
    ["template", "remove", "t"], ["template", "use", "t"],
    ["alert", "source", "add", "prom", "--kind", "alertmanager"], ["alert", "source", "rotate", "prom"],
    ["alert", "source", "remove", "prom"], ["alert", "rule", "add", "r", "--template", "t"],
    ["alert", "rule", "enable", "r"], ["alert", "rule", "disable", "r"], ["alert", "rule", "remove", "r"],
    ["postmortem", "write", "1", "pm.md"], ["postmortem", "approve", "1"], ["postmortem", "publish", "1"],
    ["postmortem", "emails", "c@example.com"],
    ["stakeholders", "create", "leadership"],
    ["stakeholders", "add", "leadership", "Chris", "--email", "c@example.com"],
    ["stakeholders", "drop", "leadership", "Chris"], ["stakeholders", "remove", "leadership"],
    ["events", "add", "https://hooks.example.com/broadcaster"], ["events", "list"], ["events", "remove", "1"],
]


@pytest.mark.parametrize("backend", ["sqlite"])  # the CLI's own behaviour: one backend says it
def test_a_command_that_changes_data_asks_who_you_are_first(run, tmp_path, backend):  # noqa: F811
    _people(run)
    (tmp_path / "subscribers.csv").write_text("email\nc@example.com\n")
    answers = {" ".join(args): run(*args, ok=False) for args in ASKS_WHO}
    assert {command: (proc.returncode, proc.stderr.strip()) for command, proc in answers.items()} == {
        command: (1, WHO) for command in answers}
    assert {name for name, _ in leaf_commands()} - NO_ACTOR == {" ".join(args[:3]) if args[0] == "alert" else
                                                            " ".join(args[:2]) if args[0] in (
        "incident", "statement", "maintenance", "holding", "subscribers", "component", "user", "token", "social",
        "approval", "template", "postmortem", "stakeholders", "events") else args[0]
        for args in ASKS_WHO}  # every command with --as is tried


def test_passwords_pins_and_tokens_are_your_own_or_an_admins(run, database_url):  # noqa: F811
    _people(run)
    refused = run("token", "create", "bob", "--role", "approver", "--as", "alice", ok=False)
    assert refused.stderr.strip() == "error: alice cannot manage tokens: needs role admin (has author)"
    assert run("token", "create", "--role", "author", "--as", "alice").stdout.startswith("token 1 for alice")
    assert run("token", "create", "bob", "--role", "approver", "--as", "root").stdout.startswith("token 2 for bob")
    assert run("token", "revoke", "2", "--as", "alice", ok=False).returncode == 1
    assert "revoked" in run("token", "revoke", "2", "--as", "bob").stdout
    assert run("user", "passwd", "bob", "--as", "alice", ok=False).stderr.strip() == (
        "error: alice cannot manage users: needs role admin (has author)")
    assert run("user", "pin", "root", "--as", "bob", ok=False).returncode == 1
    with transaction(database_url) as s:
        refusals = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("refused:%"))
                             .order_by(AuditEvent.id)).all()
    assert refusals == ["refused: manage tokens"] * 2 + ["refused: manage users"] * 2


def test_sweep_and_publish_due_check_the_role(run):  # noqa: F811
    _people(run)
    assert run("sweep", "--as", "bob", ok=False).stderr.strip() == (
        "error: bob cannot sweep: needs role admin or author (has approver)")
    assert run("maintenance", "publish-due", "--as", "bob", ok=False).stderr.strip().startswith(
        "error: bob cannot publish")
    assert run("maintenance", "publish-due", "--as", "alice").stdout.startswith("published 0 maintenance")


@pytest.mark.parametrize(("args", "port"), [(["serve"], 8080), (["serve", "--public"], 8081),
                                            (["serve", "--public", "--port", "9000"], 9000)])
def test_the_public_server_has_its_own_default_port(run, monkeypatch, args, port):  # noqa: F811
    import uvicorn

    asked = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: asked.update(kwargs))
    run("init")
    run(*args)
    assert asked["port"] == port
    assert asked["http"] == "h11"  # not uvicorn's "auto": httptools, when installed, bounds no request head


# --- the local ways in ----------------------------------------------------------------------


def test_an_approval_link_minted_on_the_server_approves_once_and_is_audited(run, database_url):  # noqa: F811
    _people(run)
    assert run("approval", "link", "1", "--as", "alice", ok=False).stderr.strip() == (
        "error: alice cannot approve: needs role approver (has author)")
    said = run("approval", "link", "1", "--as", "bob").stdout
    assert said.startswith("approval link for bob, statement 1 (incident 1 v1), valid until ")
    url = said.split()[-1]
    assert url.startswith("http://127.0.0.1:8080/approve/1?t=")  # where `broadcaster serve` answers

    from broadcaster.web.app import create_app

    client = TestClient(create_app(make_settings(database_url)))
    link = urlparse(url)
    page = client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200 and "Slow pages" in page.text
    token = link.query.removeprefix("t=")
    assert client.post(link.path, data={"t": token}).status_code == 200
    assert client.post(link.path, data={"t": token}).status_code == 403  # single use
    assert run("statement", "show", "1").stdout.startswith("statement 1 incident 1 v1 - approved")
    refused = run("approval", "link", "1", "--as", "carol", ok=False)  # nothing waits for approval now
    assert "not waiting for approval" in refused.stderr
    with transaction(database_url) as s:
        minted = s.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "mint approval link")).all()
    assert len(minted) == 1


def test_a_simulated_call_plays_the_live_message_and_records_a_call_back(run, database_url):  # noqa: F811
    run("init")
    run("user", "add", "root", "--role", "admin")
    quiet = run("phone", "call", "--from", "+14155550123").stdout
    assert "There are no known service problems right now" in quiet and "the call ends" in quiet

    _people_published(run)
    said = run("phone", "call", "--from", "+14155550123", "--press", "2", "--press", "1").stdout
    assert said.count("Slow pages") == 2  # the approved message, then again after 2
    assert "you press 2" in said and "you press 1" in said
    assert "When the issue is fixed, we will send a text message to this number" in said  # the call-back key
    with transaction(database_url) as s:
        assert s.scalars(select(CallbackRequest.phone)).all() == ["+14155550123"]
    unheard = run("phone", "call", "--from", "+14155550123").stdout  # no key, and not at a terminal
    assert "(no key pressed)" in unheard and "Goodbye" in unheard
    assert run("phone", "call", "--from", "+1415", "--press", "x", ok=False).stderr.strip() == (
        "error: --press 'x': one key of a phone keypad: 0-9, * or #")


def _people_published(run):  # noqa: F811
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("user", "add", "bob", "--role", "approver", "--as", "root")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", "--as", "alice")
    run("submit", "1", "--as", "alice")
    run("approve", "1", "--as", "bob")
    run("publish", "1", "--as", "alice")


NO_PUBLIC_URL = ("BROADCASTER_PUBLIC_URL is not set: email (SendGrid) needs it for the unsubscribe link in every "
                 "message and the links emailed to approvers. Set it to the address providers and people reach this "
                 "server at, e.g. https://broadcaster.example.com")


@pytest.mark.parametrize("command", ["serve", "worker", "beat"])
def test_a_process_that_sends_refuses_to_start_without_the_public_url_a_provider_needs(run, monkeypatch,  # noqa: F811
                                                                                      command):
    run("init")
    monkeypatch.setenv("BROADCASTER_SENDGRID_API_KEY", "SG.test")
    monkeypatch.setenv("BROADCASTER_BROKER_URL", "redis://127.0.0.1:1/0")  # never reached
    proc = run(command, ok=False)
    assert (proc.returncode, proc.stderr.replace("\n", " ").strip()) == (1, f"error: {command}: {NO_PUBLIC_URL}")


def test_an_embedded_command_that_would_send_refuses_before_it_changes_anything(run, monkeypatch):  # noqa: F811
    _people(run)
    run("approve", "1", "--as", "bob")
    monkeypatch.setenv("BROADCASTER_SENDGRID_API_KEY", "SG.test")
    proc = run("publish", "1", "--as", "alice", ok=False)
    assert proc.stderr.replace("\n", " ").strip() == f"error: publish: {NO_PUBLIC_URL}"
    assert run("statement", "show", "1").stdout.startswith("statement 1 incident 1 v1 - approved")  # not published
    monkeypatch.setenv("BROADCASTER_SIMULATE", "true")  # nothing leaves the machine: no public address needed
    assert run("publish", "1", "--as", "alice").stdout.startswith("statement 1 published")


def test_a_web_address_setting_that_is_not_one_is_one_line_naming_it(run, monkeypatch):  # noqa: F811
    run("init")
    monkeypatch.setenv("BROADCASTER_STATUS_PAGE_URL", "ftp://status.example.com")
    proc = run("serve", ok=False)
    assert proc.stderr.replace("\n", " ").strip() == (
        "error: BROADCASTER_STATUS_PAGE_URL: 'ftp://status.example.com' is not a web address such as "
        "https://example.com; it is the public status site every message and the banner link to (its root: the "
        "status page is /status on it)")
