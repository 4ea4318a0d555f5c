"""A small installation for API tests: one user per role with a token, an incident, a statement
waiting for approval, and a subscriber. The permission tables, hundreds of cases on one set of
rows, seed a SQLite file once per module (`seeded_file`) and give each case a copy of it."""

import atexit
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi.testclient import TestClient

from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import auth
from broadcaster.web.app import create_app
from tests.conftest import actor, add_subscriber, add_user

USERS = {"author": "alice", "approver": "bob", "admin": "admin", "social": "sam"}


@dataclass
class Installation:
    client: TestClient
    tokens: dict[str, str]  # role -> bearer token
    incident_id: int
    statement_id: int
    content_hash: str

    def as_role(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@dataclass(frozen=True)
class Seed:
    tokens: dict[str, str]
    incident_id: int
    statement_id: int
    content_hash: str


def install(settings, **app_state) -> Installation:
    return serve(settings, seed(settings), **app_state)


def seed(settings) -> Seed:
    """The installation's rows: users and their tokens, an incident, a submitted statement, a subscriber."""
    for role, name in USERS.items():
        add_user(settings, name, [role], phone=f"+1415555010{len(name)}")
    tokens = {role: auth.create_token(settings, name, role)["token"] for role, name in USERS.items()}
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    statement = statements.draft(settings, alice, incident["id"], StatementInput(
        status="investigating", headline="Some customers cannot log in", body="About 1 in 5 logins fail.",
        next_update="30m"))
    submitted = statements.submit(settings, alice, statement["id"])
    add_subscriber(settings, email="c1@example.com", phone="+14155550123")
    return Seed(tokens, incident["id"], statement["id"], submitted["content_hash"])


# A template that needs no value at use (only the computed placeholders), so starting a statement from it
# with any schema-valid body can succeed.
PLAYBOOK_TEMPLATE = {
    "name": "api-down", "title": "API errors", "impact": "major", "components": ["API"],
    "headline": "Some requests to {components} fail", "body": "Since {started_at}, some requests to {components} "
    "fail. We will update you within {next_update}.", "next_update": "30m",
    "resolution": "{components} works normally again.", "resolved_body": "It is fixed: requests succeed as usual."}


SOURCE = "prometheus"  # the alert source seed_alerts adds


def seed_alerts(settings) -> None:
    """On top of `seed`: a statement template, an alert source and a rule using both (the alert and
    template operations then have rows to read, change, rotate and start from)."""
    from broadcaster.alerts import rules, sources
    from broadcaster.playbooks import statement_templates as playbooks

    alice = actor(settings, "alice")
    playbooks.add_template(settings, alice, playbooks.TemplateInput(**PLAYBOOK_TEMPLATE))
    sources.add_source(settings, actor(settings, "admin"), SOURCE, "alertmanager")
    rules.add_rule(settings, alice, rules.RuleInput(name="api", template=PLAYBOOK_TEMPLATE["name"], source=SOURCE,
                                                    matchers={"service": "api"}))


def serve(settings, seeded: Seed, **app_state) -> Installation:
    """The web app over a seeded database, and a client for it."""
    app = create_app(settings)
    for key, value in app_state.items():
        setattr(app.state, key, value)
    client = TestClient(app, raise_server_exceptions=False)
    client.portal = _event_loop()
    return Installation(client, seeded.tokens, seeded.incident_id, seeded.statement_id, seeded.content_hash)


@cache
def _event_loop() -> BlockingPortal:
    """One event loop, in a thread of its own, for every client `serve` makes in this process. A TestClient
    outside a `with` block starts a loop in a new thread for each request, and the loop a new worker
    thread for each sync endpoint: 2 ms of CPU a request, more than a small page costs. The app (made by
    `create_app`) has no lifespan, so a loop that is already running serves it as its own would; a
    request's tasks end with its response, and the app and everything it holds are the test's own."""
    running = start_blocking_portal()
    portal = running.__enter__()
    atexit.register(running.__exit__, None, None, None)
    return portal


def seeded_file(tmp_path_factory, sqlite_template: Path, build, **settings) -> tuple[Path, object]:
    """A migrated SQLite file with `build(settings)` done on it once: (the file, what build returned)."""
    from broadcaster.store.db import engine_for
    from tests.conftest import make_settings

    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    shutil.copy(sqlite_template, path)
    built = build(make_settings(f"sqlite:///{path}", **settings))
    engine_for(f"sqlite:///{path}").dispose()  # every change in the file itself (WAL checkpointed)
    return path, built


def copy_of(path: Path, tmp_path: Path) -> str:
    """A test's own copy of a seeded file, as a database URL (the one URL of every test's copy in this
    process: `sqlite_copy_url`)."""
    from tests.conftest import sqlite_copy_url

    return sqlite_copy_url(path, tmp_path)
