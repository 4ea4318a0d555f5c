"""A small installation for API tests: one user per role with a token, an incident, a statement
waiting for approval, and a subscriber."""

from dataclasses import dataclass

from fastapi.testclient import TestClient

from broadcaster import auth, people, statements
from broadcaster.statements import StatementInput
from broadcaster.web.app import create_app
from tests.conftest import actor, add_user

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


def install(settings, **app_state) -> Installation:
    for role, name in USERS.items():
        add_user(settings, name, [role], phone=f"+1415555010{len(name)}")
    tokens = {role: auth.create_token(settings, name, role)["token"] for role, name in USERS.items()}
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    statement = statements.draft(settings, alice, incident["id"], StatementInput(
        status="investigating", headline="Some customers cannot log in", body="About 1 in 5 logins fail.",
        next_update="30m"))
    submitted = statements.submit(settings, alice, statement["id"])
    people.add_subscriber(settings, email="c1@example.com", phone="+14155550123")
    app = create_app(settings)
    for key, value in app_state.items():
        setattr(app.state, key, value)
    return Installation(TestClient(app, raise_server_exceptions=False), tokens, incident["id"], statement["id"],
                        submitted["content_hash"])
