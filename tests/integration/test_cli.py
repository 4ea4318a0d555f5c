"""The `broadcaster` command as a user types it, on a real database.

Commands run in-process through the same ``main()`` the console script calls (a
process per command would cost a second of imports each); one test runs the
installed ``broadcaster`` executable itself.
"""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from broadcaster.cli import main
from broadcaster.config import get_settings
from broadcaster.store.db import engine_for
from broadcaster.store.models import Delivery
from tests.conftest import TEST_SECRET_KEY, actor


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
    monkeypatch.setenv("BROADCASTER_SECRET_KEY", TEST_SECRET_KEY)

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
    assert run("user", "add", "root", "--role", "admin").stdout.startswith("user 1")
    assert run("user", "add", "alice", "--role", "author", "--email", "alice@example.com",
               "--as", "root").stdout.startswith("user 2")
    run("user", "add", "bob", "--role", "approver", "--phone", "+14155550100", "--as", "root")
    run("subscribers", "add", "--email", "c@example.com", "--phone", "+14155550123", "--as", "root")
    assert run("incident", "open", "--title", "Login failures", "--impact", "major", "--component", "Login",
               "--component", "API", "--as", "alice").stdout.startswith("incident 1:")
    (tmp_path / "statement.yaml").write_text(
        "status: investigating\nheadline: Some customers cannot log in\n"
        "body: About 1 in 5 logins fail.\nworkaround: Use the mobile app\nnext_update: 30m\n")
    out = run("statement", "draft", "1", "--file", "statement.yaml", user="alice").stdout
    assert out.startswith("statement 1: incident 1 v1 (draft)")

    preview = json.loads(run("preview", "1", "--json").stdout)
    assert set(preview["channels"]) == {"banner", "status_page", "x", "email", "sms", "ivr", "webhook", "reply",
                                         "agent", "stakeholder", "slack", "teams"}
    assert all(channel["ok"] for channel in preview["channels"].values())
    assert preview["channels"]["sms"]["limits"][0]["name"] == "segments"
    assert "sms" in run("preview", "1").stdout

    # The hash submit freezes is the one preview shows from then on. (A draft's preview is of its words
    # at this minute, the X post's "(00:43 UTC)" among them: one taken before submit differs in the next.)
    submitted = re.search(r"content hash ([0-9a-f]{12})", run("submit", "1", "--as", "alice").stdout)[1]
    assert run("preview", "1", "--hash").stdout == submitted + "\n"
    run("approve", "1", "--as", "bob", "--hash", submitted, "--comment", "go")
    assert "8 live deliveries; fanning out to email, sms, webhook" in run("publish", "1", "--as", "alice").stdout

    log = json.loads(run("log", "--statement", "1", "--json").stdout)
    assert sorted(e["channel"] for e in log if e["status"] == "simulated") == ["email", "slack", "sms", "teams", "x",
                                                                               "zendesk"]
    assert sorted(e["channel"] for e in log if e["status"] == "sent") == ["agent", "banner", "ivr", "status_page"]
    csv_lines = run("log", "--channel", "sms", "--kind", "statement", "--csv").stdout.splitlines()
    assert csv_lines[0].startswith("id,at,incident_id") and len(csv_lines) == 4
    asked = json.loads(run("log", "--kind", "approval request", "--json").stdout)  # bob's code, on its way
    assert asked and {e["target"] for e in asked} == {"+14155550100"} and asked[0]["status"] == "pending"
    audit = json.loads(run("audit", "--json").stdout)
    assert audit["drift"] is False and audit["incidents"][0]["channels"]["banner"]["shows_version"] == 1


def test_audit_exits_1_when_a_channel_is_behind(run, database_url):
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("user", "add", "bob", "--role", "approver", "--as", "root")
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
    (["approve", "1", "--as", "alice"], "error: alice wrote or edited this statement and cannot approve it"),
    (["approve", "1"], "error: who: say who you are with --as NAME or BROADCASTER_USER"),
    (["publish", "1", "--as", "alice"],
     "error: cannot publish statement 1 (incident 1 v1): it is waiting for approval"),
    (["preview", "7"], "error: statement 7 does not exist"),
    (["user", "add", "zed", "--role", "author", "--phone", "+1 555 0100", "--as", "root"],
     "error: phone: '+1 555 0100' is not a"),
    (["incident", "open", "--title", "x", "--impact", "huge", "--as", "alice"],
     "error: impact: 'huge' is not one of none, minor, major, critical"),
])
def test_errors_are_one_clear_line_and_a_non_zero_exit(run, args, message):
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--role", "approver", "--as", "root")
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
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    run("statement", "draft", "1", "--headline", "H" * 300, "--body", "b", user="alice")
    proc = run("submit", "1", "--as", "alice", ok=False)
    assert proc.returncode == 1
    assert "x: weighted length is" in proc.stderr and "over by" in proc.stderr and "sms: length is" in proc.stderr


def _published_statement(run, dispatch_held=False):
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("user", "add", "bob", "--role", "approver", "--as", "root")
    run("subscribers", "add", "--phone", "+14155550123", "--as", "root")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", user="alice")
    run("submit", "1", user="alice")
    run("approve", "1", user="bob")


def test_sweep_sends_what_the_broker_lost(run, database_url, monkeypatch):
    from broadcaster.incidents import publishing
    from tests.conftest import make_settings

    _published_statement(run)
    settings = make_settings(database_url)
    publishing.publish(settings, actor(settings, "alice"), 1, dispatch=lambda *_: None)  # never enqueued
    monkeypatch.setenv("BROADCASTER_SWEEP_INTERVAL_SECONDS", "0")
    out = run("sweep", "--as", "alice").stdout
    assert "9 requeued" in out  # banner, status page, ivr, x, the agent desk, slack, teams, zendesk, one SMS
    audit = json.loads(run("audit", "--json").stdout)
    assert audit["drift"] is False


def test_retry_failed_resends_after_an_operator_decides(run, database_url):
    _published_statement(run)
    run("publish", "1", "--as", "alice")
    with engine_for(database_url).begin() as connection:  # say the SMS provider refused it
        connection.execute(update(Delivery).where(Delivery.channel == "sms").values(status="failed"))
    assert run("audit", ok=False).returncode == 1
    assert "1 delivery re-queued" in run("retry", "1", "--failed", "--as", "alice").stdout
    assert run("audit").returncode == 0
    log = json.loads(run("log", "--channel", "sms", "--json").stdout)
    assert [e["status"] for e in log][-3:] == ["pending", "sending", "simulated"]
    assert "requeued by alice" in log[-3]["detail"]


def test_worker_without_a_shared_broker_says_what_to_set(run):
    proc = run("worker", ok=False)
    assert proc.returncode == 1 and "set BROADCASTER_BROKER_URL" in proc.stderr


def test_subscribers_import_reports_bad_rows_by_line_and_keeps_the_good(run, tmp_path):
    run("init")
    run("user", "add", "root", "--role", "admin")
    (tmp_path / "subs.csv").write_text("email,phone,components\n"
                                       "ann@example.com,+14155550123,Login\n"
                                       "not-an-email,,\n"
                                       ",+1 555,\n"
                                       "bob@example.com,,\n")
    proc = run("subscribers", "import", "subs.csv", "--as", "root", ok=False)
    assert proc.returncode == 1
    assert proc.stdout.strip() == "2 imported, 0 updated, 0 unchanged, 2 rejected"
    assert "subs.csv: line 3: email: 'not-an-email'" in proc.stderr
    assert "subs.csv: line 4: phone: '+1 555'" in proc.stderr


# --- issue 9: words, secrets and no tracebacks -----------------------------------------------

LONG_URL = ("https://status.example.com/incidents/2026-11-23/login-failures-affecting-some-customers-in-europe"
            "-and-asia?utm_source=sms&utm_medium=text")


def _people(run):
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("user", "add", "bob", "--role", "approver", "--as", "root")
    run("incident", "open", "--title", "Outage", "--impact", "minor", "--component", "Login", "--component", "API",
        "--as", "alice")


def _squeezed(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and ch not in "│╭╮╰╯─")


def test_preview_shows_every_character_of_a_long_url_at_80_columns(run, monkeypatch):
    from broadcaster.cli import common
    from broadcaster.incidents import statements
    from broadcaster.store.models import utcnow

    # A draft is rendered at each preview, and an X post says the minute: both previews at one moment, or
    # a minute's turn between them compares "(23:59 UTC)" with "(00:00 UTC)" (provoked at 23:59:59.7)
    moment = utcnow()
    monkeypatch.setattr(statements, "utcnow", lambda: moment)
    _people(run)
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", f"See {LONG_URL} for details", user="alice")
    monkeypatch.setattr(common.out, "_width", 80)
    shown = run("preview", "1").stdout
    fields = json.loads(run("preview", "1", "--json").stdout)["channels"]

    assert max(len(line) for line in shown.splitlines()) <= 80
    assert "…" not in shown
    for channel in fields.values():
        for name, value in channel.items():
            if name not in ("limits", "ok"):
                assert _squeezed(value) in _squeezed(shown), (name, value)


def test_statement_show_prints_components_as_a_list(run):
    _people(run)
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", user="alice")
    shown = run("statement", "show", "1").stdout
    assert "  components: Login, API\n" in shown and "['" not in shown


def test_drafting_a_new_version_says_which_older_version_is_void(run):
    _people(run)
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", user="alice")
    run("submit", "1", user="alice")
    run("approve", "1", user="bob")
    out = run("statement", "draft", "1", "--status", "identified", user="alice").stdout
    assert out.splitlines() == ["statement 2: incident 1 v2 (draft)",
                                "statement 1 (v1, was approved) is void: only the newest version can be published"]
    assert "it was withdrawn" in run("publish", "1", user="alice", ok=False).stderr


def test_editing_a_published_statement_says_a_new_draft_was_made_and_the_live_one_stays_live(run):
    _people(run)
    run("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", user="alice")
    run("submit", "1", user="alice")
    run("approve", "1", user="bob")
    run("publish", "1", user="alice")
    out = run("statement", "edit", "1", "--status", "monitoring", user="alice").stdout
    assert out.splitlines() == [
        "statement 2: a new draft, incident 1 v2, made from statement 1 (a submitted version never changes)",
        "statement 1 (v1) stays live until v2 is approved and published"]


@pytest.mark.parametrize("args, message", [
    (["preview", "9223372036854775808"], "error: statement id: 9223372036854775808 is not an id; ids are whole "
                                         "numbers from 1 (`broadcaster statement list` shows them)"),
    (["preview", "-1"], "error: statement id: -1 is not an id; ids are whole numbers from 1"),
    (["statement", "show", "0"], "error: statement id: 0 is not an id"),
    (["publish", "-2", "--as", "alice"], "error: statement id: -2 is not an id"),
    (["statement", "list", "--incident", "-5"], "error: incident id: -5 is not an id"),
    (["statement", "draft", "99999999999999999999", "--as", "alice"], "error: incident id: 99999999999999999999 is"),
])
def test_an_id_that_cannot_be_one_is_a_one_line_error(run, args, message):
    _people(run)
    proc = run(*args, ok=False)
    assert (proc.returncode, proc.stderr.replace("\n", " ").strip()[:len(message)]) == (1, message)
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--email", "c@example.com"], "error: email: c@example.com is already subscriber 1; nothing was added"),
    (["--phone", "+1 415 555 0123", "--email", "new@example.com"],
     "error: phone: +14155550123 is already subscriber 1; nothing was added"),
])
def test_subscribing_a_taken_email_or_phone_is_one_line_and_adds_nothing(run, args, message):
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("subscribers", "add", "--email", "c@example.com", "--phone", "+14155550123", "--as", "root")
    proc = run("subscribers", "add", *args, "--as", "root", ok=False)
    assert proc.returncode == 1 and proc.stderr.replace("\n", " ").startswith(message), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_subscriber_added_with_a_language_reads_updates_in_it(run):
    run("init")
    run("user", "add", "root", "--role", "admin")
    added = run("subscribers", "add", "--email", "ana@example.com", "--locale", "es_MX", "--as", "root")
    assert "locale=es-MX" in added.stdout
    proc = run("subscribers", "add", "--email", "bo@example.com", "--locale", "español", "--as", "root", ok=False)
    assert proc.returncode == 1 and proc.stderr.replace("\n", " ").startswith(
        "error: subscriber: locale: 'español' is not a language tag like 'es' or 'pt-BR'"), proc.stderr


def test_the_first_user_is_added_with_broadcaster_user_already_exported(run):
    # The help says to export BROADCASTER_USER once for the shell; done before the first user exists, it names
    # nobody yet, and the command that adds them must not refuse for that.
    run("init")
    assert run("user", "add", "root", "--role", "admin", user="root").stdout.startswith("user 1: root (admin)")
    assert run("user", "add", "alice", "--role", "author", user="root").stdout.startswith("user 2")
    refused = run("user", "add", "bob", "--role", "author", user="alice", ok=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr  # from then on, who acts counts


def test_an_admin_finds_a_subscriber_and_removes_them(run):
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("subscribers", "add", "--email", "ana@example.com", "--phone", "+14155550123", "--as", "root")
    run("subscribers", "add", "--email", "bo@example.com", "--component", "Login", "--locale", "es", "--as", "root")
    listed = run("subscribers", "list").stdout
    assert "ana@example.com" in listed and "+14155550123" in listed and "every component" in listed
    assert "1-2 of 2" in listed
    found = run("subscribers", "list", "--search", "BO@").stdout
    assert "bo@example.com" in found and "ana@" not in found and "1-1 of 1 matching 'BO@'" in found
    assert "the next page: --offset 1" in run("subscribers", "list", "--limit", "1").stdout
    refused = run("subscribers", "remove", "2", "--as", "alice", ok=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    removed = run("subscribers", "remove", "2", "--as", "root").stdout.replace("\n", " ")
    assert removed.startswith("subscriber 2 removed (email=bo@example.com): nothing more is sent to them")
    assert "bo@example.com" not in run("subscribers", "list").stdout
    gone = run("subscribers", "remove", "2", "--as", "root", ok=False)
    assert gone.returncode == 1 and gone.stderr.strip() == "error: subscriber 2 does not exist"
    assert run("subscribers", "list", "--limit", "0", ok=False).returncode == 2  # bounded: 1 to 1,000


def test_a_latin1_yaml_file_is_one_line_naming_the_line(run, tmp_path):
    _people(run)
    (tmp_path / "statement.yaml").write_bytes("headline: Pages slow\nbody: Caf\xe9 menu down\n".encode("latin-1"))
    proc = run("statement", "draft", "1", "--file", "statement.yaml", user="alice", ok=False)
    assert proc.returncode == 1
    assert proc.stderr.replace("\n", " ").strip() == (
        "error: statement.yaml: line 2 is not UTF-8 (byte 0xe9); save the file as UTF-8 and try again")


def test_only_an_admin_adds_users_once_the_first_admin_exists(run):
    run("init")
    first = run("user", "add", "alice", "--role", "author", ok=False)
    assert first.stderr.strip() == ("error: the first user must be an admin (only an admin can add the others): "
                                    "add alice with --role admin")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    anonymous = run("user", "add", "mallory", "--role", "approver", ok=False)
    assert anonymous.stderr.strip() == "error: who: say who you are with --as NAME or BROADCASTER_USER"
    by_author = run("user", "add", "mallory", "--role", "approver", "--as", "alice", ok=False)
    assert by_author.stderr.strip() == "error: alice cannot manage users: needs role admin (has author)"
    assert "user 2: alice (approver, author)" in run("user", "roles", "alice", "--role", "author", "--role",
                                                     "approver", "--as", "root").stdout


def test_init_creates_a_secret_only_its_owner_can_read_and_keeps_it(run, tmp_path, monkeypatch):
    monkeypatch.delenv("BROADCASTER_SECRET_KEY")
    out = run("init").stdout
    secret = tmp_path / ".broadcaster-secret"
    assert "secret key: created .broadcaster-secret" in out
    assert secret.stat().st_mode & 0o777 == 0o600
    key = secret.read_text().strip()
    assert len(key) >= 40 and key != "change-me"

    assert "secret key: .broadcaster-secret (kept)" in run("init").stdout
    assert secret.read_text().strip() == key
    get_settings.cache_clear()
    assert get_settings().secret_key == key


def test_the_environment_secret_wins_over_the_file(run, tmp_path, monkeypatch):
    (tmp_path / ".broadcaster-secret").write_text("from-the-file\n")
    monkeypatch.setenv("BROADCASTER_SECRET_KEY", "from-the-environment")
    assert "secret key: from BROADCASTER_SECRET_KEY" in run("init").stdout
    get_settings.cache_clear()
    assert get_settings().secret_key == "from-the-environment"


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["beat"]])
@pytest.mark.parametrize("secret", ["change-me", ""])
def test_long_running_processes_refuse_the_default_or_an_empty_secret(run, monkeypatch, command, secret):
    run("init")
    monkeypatch.setenv("BROADCASTER_SECRET_KEY", secret)
    monkeypatch.setenv("BROADCASTER_BROKER_URL", "redis://127.0.0.1:1/0")  # never reached
    proc = run(*command, ok=False)
    which = "empty" if not secret else "the default 'change-me'"
    assert proc.returncode == 1
    assert proc.stderr.replace("\n", " ").strip() == (
        f"error: {command[0]}: the secret key is {which}; run `broadcaster init` (it writes a random key to "
        ".broadcaster-secret, readable only by you) or set BROADCASTER_SECRET_KEY to a long random value")

def test_statement_list_prints_the_statements(run):
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", "--as", "root")
    run("incident", "open", "--title", "Login failures", "--impact", "major", user="alice")
    run("statement", "draft", "1", "--headline", "Logins fail", "--body", "B", "--next-update", "30m", user="alice")
    assert "Logins fail" in run("statement", "list").stdout


def test_stakeholder_audiences_are_managed_from_the_cli(world, run):
    created = run("stakeholders", "create", "first responders", "--as", "alice")
    assert "first responders (hears every)" in created.stdout
    added = run("stakeholders", "add", "first responders", "Fire chief", "--phone", "+14155550188", "--as", "alice")
    assert "1 member" in added.stdout and "member(s)" not in added.stdout
    bad = run("stakeholders", "add", "first responders", "Nobody", "--as", "alice", ok=False)
    assert bad.returncode == 1 and "give an email address, a phone number, or both" in bad.stderr
    listed = json.loads(run("stakeholders", "list", "--json").stdout)
    assert listed[0]["members"][0]["phone"] == "+14155550188"
    run("stakeholders", "drop", "first responders", "Fire chief", "--as", "alice")
    run("stakeholders", "remove", "first responders", "--as", "alice")
    assert json.loads(run("stakeholders", "list", "--json").stdout) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_demo_runs_in_a_fresh_folder_and_again(run, tmp_path):
    """The README's first command ends in `broadcaster demo`: on a fresh machine its database is new, and a
    second run makes it anew (tests/integration/test_demo.py: one incident, the commands it echoes)."""
    first = run("demo")
    assert "published" in first.stdout and "Traceback" not in first.stderr, first.stderr
    assert (tmp_path / "broadcaster-demo.db").exists()
    assert "published" in run("demo").stdout
