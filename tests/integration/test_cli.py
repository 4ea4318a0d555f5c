"""The `broadcaster` command as a user types it, on a real database.

Commands run in-process through the same ``main()`` the console script calls (a
process per command would cost a second of imports each); one test runs the
installed ``broadcaster`` executable itself.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from tests.conftest import actor
from broadcaster.cli import main
from broadcaster.config import get_settings
from broadcaster.store.db import engine_for
from broadcaster.store.models import Delivery


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("BROADCASTER_USER", raising=False)

    def run_(*args, ok=True, user=None):
        if user:
            monkeypatch.setenv("BROADCASTER_USER", user)
        get_settings.cache_clear()
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        finally:
            monkeypatch.delenv("BROADCASTER_USER", raising=False)
        captured = capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        if ok:
            assert code == 0, (args, result.stdout[-2000:], result.stderr)
        return result

    yield run_
    get_settings.cache_clear()


def test_the_installed_command_runs_and_fails_cleanly(tmp_path):
    env = {"PATH": shutil.os.environ["PATH"], "BROADCASTER_DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    ok = subprocess.run(["broadcaster", "init"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert ok.returncode == 0 and "database ready at schema" in ok.stdout, ok.stderr
    bad = subprocess.run(["broadcaster", "approve", "1"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: who: say who you are with --as NAME or BROADCASTER_USER"


def test_walkthrough_from_the_readme(run, tmp_path):
    assert "database ready" in run("init").stdout
    assert run("user", "add", "alice", "--role", "author", "--email", "alice@example.com").stdout.startswith("user 1")
    run("user", "add", "bob", "--role", "approver", "--phone", "+14155550100")
    run("subscribers", "add", "--email", "c@example.com", "--phone", "+14155550123")
    assert run("incident", "open", "--title", "Login failures", "--impact", "major", "--component", "Login",
               "--component", "API", "--as", "alice").stdout.startswith("incident 1:")
    (tmp_path / "statement.yaml").write_text(
        "status: investigating\nheadline: Some customers cannot log in\n"
        "body: About 1 in 5 logins fail.\nworkaround: Use the mobile app\nnext_update: 30m\n")
    out = run("statement", "draft", "1", "--file", "statement.yaml", user="alice").stdout
    assert out.startswith("statement 1: incident 1 v1 (draft)")

    preview = json.loads(run("preview", "1", "--json").stdout)
    assert set(preview["channels"]) == {"banner", "status_page", "x", "email", "sms", "ivr", "webhook", "reply"}
    assert all(channel["ok"] for channel in preview["channels"].values())
    assert preview["channels"]["sms"]["limits"][0]["name"] == "segments"
    assert "sms" in run("preview", "1").stdout

    assert f"content hash {preview['content_hash'][:12]}" in run("submit", "1", "--as", "alice").stdout
    run("approve", "1", "--as", "bob", "--hash", preview["content_hash"][:12], "--comment", "go")
    assert "6 deliveries" in run("publish", "1", "--as", "alice").stdout

    log = json.loads(run("log", "--statement", "1", "--json").stdout)
    assert sorted(e["channel"] for e in log if e["status"] == "simulated") == ["email", "sms", "x"]
    assert sorted(e["channel"] for e in log if e["status"] == "sent") == ["banner", "ivr", "status_page"]
    csv_lines = run("log", "--channel", "sms", "--csv").stdout.splitlines()
    assert csv_lines[0].startswith("id,at,incident_id") and len(csv_lines) == 4
    audit = json.loads(run("audit", "--json").stdout)
    assert audit["drift"] is False and audit["incidents"][0]["channels"]["banner"]["shows_version"] == 1


def test_audit_exits_1_when_a_channel_is_behind(run, database_url):
    run("init")
    run("user", "add", "alice", "--role", "author")
    run("user", "add", "bob", "--role", "approver")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", user="alice")
    run("submit", "1", user="alice")
    run("approve", "1", user="bob")
    run("publish", "1", user="alice")
    assert run("audit").returncode == 0
    with engine_for(database_url).begin() as connection:  # a banner update the broker lost
        connection.execute(update(Delivery).where(Delivery.channel == "banner").values(status="retry"))
    proc = run("audit", ok=False)
    assert proc.returncode == 1
    assert "behind" in proc.stdout and "drift" in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["approve", "1", "--as", "alice"], "error: alice wrote this statement and cannot approve it"),
    (["approve", "1"], "error: who: say who you are with --as NAME or BROADCASTER_USER"),
    (["publish", "1", "--as", "alice"], "error: cannot publish statement 1 (incident 1 v1): it is pending approval"),
    (["preview", "7"], "error: statement 7 does not exist"),
    (["user", "add", "zed", "--role", "author", "--phone", "+1 555 0100"], "error: phone: '+1 555 0100' is not a"),
    (["incident", "open", "--title", "x", "--impact", "huge", "--as", "alice"],
     "error: impact: 'huge' is not one of none, minor, major, critical"),
])
def test_errors_are_one_clear_line_and_a_non_zero_exit(run, args, message):
    run("init")
    run("user", "add", "alice", "--role", "author", "--role", "approver")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", user="alice")
    run("submit", "1", user="alice")
    proc = run(*args, ok=False)
    assert proc.returncode == 1
    assert proc.stderr.replace("\n", " ").startswith(message), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_command_before_init_says_to_run_init(run, monkeypatch, tmp_path):
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", f"sqlite:///{tmp_path}/new.db")
    proc = run("incident", "list", ok=False)
    assert proc.returncode == 1
    assert "run `broadcaster init` first" in proc.stderr and "Traceback" not in proc.stderr


def test_a_statement_over_the_sms_limit_is_refused_at_submit_with_the_numbers(run):
    run("init")
    run("user", "add", "alice", "--role", "author")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    run("statement", "draft", "1", "--headline", "H" * 300, "--body", "b", user="alice")
    proc = run("submit", "1", "--as", "alice", ok=False)
    assert proc.returncode == 1
    assert "x: weighted length is" in proc.stderr and "over by" in proc.stderr and "sms: length is" in proc.stderr


def _published_statement(run, dispatch_held=False):
    run("init")
    run("user", "add", "alice", "--role", "author")
    run("user", "add", "bob", "--role", "approver")
    run("subscribers", "add", "--phone", "+14155550123")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", user="alice")
    run("submit", "1", user="alice")
    run("approve", "1", user="bob")


def test_sweep_sends_what_the_broker_lost(run, database_url, monkeypatch):
    from broadcaster import publish as publish_uc
    from tests.conftest import make_settings

    _published_statement(run)
    publish_uc.publish(make_settings(database_url), actor(make_settings(database_url), "alice"), 1, dispatch=lambda *_: None)  # never enqueued
    monkeypatch.setenv("BROADCASTER_SWEEP_INTERVAL_SECONDS", "0")
    out = run("sweep").stdout
    assert "5 requeued" in out  # banner, status page, ivr, x, one SMS
    audit = json.loads(run("audit", "--json").stdout)
    assert audit["drift"] is False


def test_retry_failed_resends_after_an_operator_decides(run, database_url):
    _published_statement(run)
    run("publish", "1", "--as", "alice")
    with engine_for(database_url).begin() as connection:  # say the SMS provider refused it
        connection.execute(update(Delivery).where(Delivery.channel == "sms").values(status="failed"))
    assert run("audit", ok=False).returncode == 1
    assert "1 deliveries re-queued" in run("retry", "1", "--failed", "--as", "alice").stdout
    assert run("audit").returncode == 0
    log = json.loads(run("log", "--channel", "sms", "--json").stdout)
    assert [e["status"] for e in log][-3:] == ["pending", "sending", "simulated"]
    assert "requeued by alice" in log[-3]["detail"]


def test_worker_without_a_shared_broker_says_what_to_set(run):
    proc = run("worker", ok=False)
    assert proc.returncode == 1 and "set BROADCASTER_BROKER_URL" in proc.stderr


def test_subscribers_import_reports_bad_rows_by_line_and_keeps_the_good(run, tmp_path):
    run("init")
    (tmp_path / "subs.csv").write_text("email,phone,components\n"
                                       "ann@example.com,+14155550123,Login\n"
                                       "not-an-email,,\n"
                                       ",+1 555,\n"
                                       "bob@example.com,,\n")
    proc = run("subscribers", "import", "subs.csv", ok=False)
    assert proc.returncode == 1
    assert proc.stdout.strip() == "2 imported, 0 updated, 0 unchanged, 2 rejected"
    assert "subs.csv: line 3: email: 'not-an-email'" in proc.stderr
    assert "subs.csv: line 4: phone: '+1 555'" in proc.stderr
