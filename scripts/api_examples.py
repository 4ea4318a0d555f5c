"""An example answer for every operation of the REST API, as the server gives it: each example request
of the reference runs against its own copy of a small installation (users and tokens, an incident,
a statement waiting for approval, a subscriber), after the steps that make it meaningful (a publish
needs an approved statement). Times, hashes, tokens and secrets are replaced by fixed values, so the
answers are the same on every run.

Running them takes a while (an installation per operation), so they are kept in `api_examples.json`
beside this script, which `scripts/reference.py` reads: `python scripts/api_examples.py` writes it
again, and tests/integration/test_api_examples.py fails when it is not what the app answers now."""

import json
import re
import shutil
import tempfile
from pathlib import Path

SECRET = "reference-example-secret-key"
USERS = {"admin": "root", "author": "alice", "approver": "bob", "social": "sam"}
# Who calls each operation (its role), when not the admin.
CALLER = {"approve": "approver", "reject": "approver", "draft": "author", "open_incident": "author",
          "edit": "author", "submit": "author", "withdraw": "author", "preview_draft": "author",
          "proposals": "approver", "approve_text": "approver", "reply": "social", "skip": "social",
          "propose": "social", "inbox": "social", "replies": "social", "variants": "social", "budget": "social",
          "pull": "social", "search": "social"}
# What must have happened before an operation means something: steps from `STEPS`.
PUBLISHED = ["submit", "approve", "publish"]
KEPT_READY = ["submit", "approve", "keep"]
BEFORE = {"approve": ["submit"], "reject": ["submit"], "withdraw": ["submit"],
          "publish_statement": ["submit", "approve"],
          "retry": PUBLISHED, "fan_out_progress": PUBLISHED, "send_log": PUBLISHED, "consistency_report": PUBLISHED,
          "variants": PUBLISHED, "keep_holding": ["submit", "approve"], "activate_holding": KEPT_READY,
          "list_holding": KEPT_READY, "holding_links_list": KEPT_READY, "holding_links_send": KEPT_READY,
          "holding_links_revoke": KEPT_READY}
FIXED = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?"), "2026-11-23T14:05:00+00:00"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "3f9a1c0e2b7d" + "0" * 52),
    # A next update 30 minutes ahead is "tomorrow at ..." in the half hour before midnight UTC.
    (re.compile(r"\btomorrow at (\d\d:\d\d UTC)\b"), r"\1"),
    (re.compile(r"\b\d\d:\d\d( UTC)\b"), r"14:35\1"),
    (re.compile(r"bct_[A-Za-z0-9_-]+"), "bct_…"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_…"),
    (re.compile(r'"request_id": "[0-9a-f]{32}"'), '"request_id": "8c1f0e6a2b7d4c1e9f3a5b7c9d1e3f5a"'),
]
MOST_LINES = 24
KEPT = Path(__file__).with_name("api_examples.json")


def answers(doc: dict, request_of) -> dict[tuple[str, str], tuple[int, str]]:
    """{(method, path): (status, the answer's body as shown)}; `request_of(method, path, op)` gives the
    example request as the reference shows it: (url, JSON body or None)."""
    from fastapi.testclient import TestClient

    from broadcaster.config import Settings
    from broadcaster.store.db import engine_for, migrate
    from broadcaster.web.app import create_app

    found = {}
    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.db"
        migrate(f"sqlite:///{template}")
        seeded = _seed(Settings(_env_file=None, database_url=f"sqlite:///{template}", secret_key=SECRET))
        engine_for(f"sqlite:///{template}").dispose()
        for path, operations in doc["paths"].items():
            for method, op in operations.items():
                copy = Path(folder) / f"{op['operationId']}.db"
                shutil.copy(template, copy)
                url = f"sqlite:///{copy}"
                settings = Settings(_env_file=None, database_url=url, secret_key=SECRET)
                app = create_app(settings)
                app.state.dispatch = lambda settings_, ids: None
                client = TestClient(app)
                auth = {role: {"Authorization": f"Bearer {token}"} for role, token in seeded["tokens"].items()}
                for step in BEFORE.get(op["operationId"], []):
                    _step(client, auth, seeded, step)
                target, body = request_of(method, path, op)
                if op["operationId"] == "approve":
                    body = {**(body or {}), "content_hash": seeded["content_hash"]}
                if op["operationId"] == "add_user":
                    body = {**(body or {}), "name": "carol"}
                answer = client.request(method.upper(), target, json=body,
                                        headers=auth[CALLER.get(op["operationId"], "admin")])
                found[(method, path)] = (answer.status_code, _shown(answer))
                engine_for(url).dispose()
    return found


def _seed(settings) -> dict:
    from broadcaster import events
    from broadcaster.audience import subscribers
    from broadcaster.incidents import statements
    from broadcaster.incidents.statements import StatementInput
    from broadcaster.people import auth, users

    users.add_user(settings, None, "root", ["admin"])
    root = users.actor_named(settings, "root")
    for role, name in USERS.items():
        if name != "root":
            users.add_user(settings, root, name, [role], phone=f"+1415555010{len(name)}")
    tokens = {role: auth.create_token(settings, name, role)["token"] for role, name in USERS.items()}
    alice = users.actor_named(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    # A draft (no promised next update: it can be kept as a holding statement too); the steps submit it.
    statement = statements.draft(settings, alice, incident["id"], StatementInput(
        status="investigating", headline="Some customers cannot log in",
        body="Since 14:05 UTC about 1 in 5 login attempts fail. We will post again within the hour."))
    subscribers.add_subscriber(settings, root, (), email="customer@example.com", phone="+14155550123")
    # An event endpoint (for types the examples never raise: their send log stays the statement's own).
    events.add_endpoint(settings, root, url="https://hooks.example.com/broadcaster",
                        event_types=["channel.paused", "channel.resumed"])
    return {"tokens": tokens, "statement_id": statement["id"]}


def _step(client, auth: dict, seeded: dict, step: str) -> None:
    statement = seeded["statement_id"]
    if step == "submit":
        seeded["content_hash"] = client.post(f"/api/v1/statements/{statement}/submit",
                                             headers=auth["author"]).json()["content_hash"]
    elif step == "approve":
        client.post(f"/api/v1/statements/{statement}/approve", json={"content_hash": seeded["content_hash"]},
                    headers=auth["approver"])
    elif step == "publish":
        client.post(f"/api/v1/statements/{statement}/publish", headers=auth["admin"])
    elif step == "keep":
        client.post("/api/v1/holding", json={"statement_id": statement}, headers=auth["admin"])


def _shown(answer) -> str:
    if "json" not in answer.headers.get("content-type", ""):
        text = answer.text
    else:
        text = json.dumps(answer.json(), indent=2, ensure_ascii=False)
    for pattern, value in FIXED:
        text = pattern.sub(value, text)
    lines = text.splitlines()
    return "\n".join(lines[:MOST_LINES] + (["…"] if len(lines) > MOST_LINES else []))


def kept() -> dict[tuple[str, str], tuple[int, str]]:
    """The answers as last written (none before the first run)."""
    if not KEPT.exists():
        return {}
    return {tuple(key.split(" ", 1)): (status, body) for key, (status, body) in json.loads(KEPT.read_text()).items()}


def as_json(found: dict) -> str:
    return json.dumps({f"{method} {path}": list(answer) for (method, path), answer in sorted(found.items())},
                      indent=1, ensure_ascii=False) + "\n"


def current() -> dict:
    """What the app answers now, for every operation of its document."""
    import reference

    from broadcaster.config import Settings
    from broadcaster.web.app import create_app

    doc = create_app(Settings(_env_file=None)).openapi()
    return answers(doc, lambda method, path, op: reference.request_of(doc, path, op))


if __name__ == "__main__":
    import sys

    sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
    KEPT.write_text(as_json(current()))
    print(f"wrote {KEPT}")
