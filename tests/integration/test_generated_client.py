"""The OpenAPI document is usable as published: `openapi-python-client` generates a client from it
(into a temporary folder), and the client, over HTTP to the app on a loopback port, opens an incident,
drafts, submits, approves (as an approver: four eyes) and publishes, with an `Idempotency-Key` on the
publish, then reads the send log."""

import importlib
import json
import shutil
import subprocess
import sys
import uuid

from tests import loopback
from tests.conftest import make_settings
from tests.integration.api_fixtures import copy_of, seed
from tests.integration.api_server import serving


def generated_client(tmp_path, document: dict):
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    package = tmp_path / "broadcaster_client"
    built = subprocess.run([shutil.which("openapi-python-client") or "openapi-python-client", "generate", "--path",
                            str(tmp_path / "openapi.json"), "--output-path", str(package), "--meta", "none"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module("broadcaster_client")
    finally:
        sys.path.remove(str(tmp_path))


def test_a_client_generated_from_the_document_drives_a_statement_to_publication(tmp_path, sqlite_template):
    shutil.copy(sqlite_template, tmp_path / "template.db")
    settings = make_settings(copy_of(tmp_path / "template.db", tmp_path))
    tokens = seed(settings).tokens
    for name in [m for m in sys.modules if m.startswith("broadcaster_client")]:
        del sys.modules[name]
    with serving(settings, dispatch=lambda settings_, ids: None) as url:

        client = generated_client(tmp_path, loopback.get(f"{url}/openapi.json").json())
        from broadcaster_client.api.deliveries import send_log
        from broadcaster_client.api.incidents import draft, open_incident
        from broadcaster_client.api.statements import approve, publish_statement, submit
        from broadcaster_client.models import ApproveIn, Impact, IncidentIn, IncidentStatus, NewStatementIn

        author = client.AuthenticatedClient(base_url=url, token=tokens["author"], raise_on_unexpected_status=True)
        approver = client.AuthenticatedClient(base_url=url, token=tokens["approver"], raise_on_unexpected_status=True)
        admin = client.AuthenticatedClient(base_url=url, token=tokens["admin"], raise_on_unexpected_status=True)

        incident = open_incident.sync(client=author, body=IncidentIn(title="Checkout errors", impact=Impact.MAJOR))
        drafted = draft.sync(incident_id=incident["id"], client=author, body=NewStatementIn(
            headline="Some payments fail", body="About 1 in 10 card payments fail; retrying works.",
            status=IncidentStatus.INVESTIGATING, next_update="30m"))
        submitted = submit.sync(statement_id=drafted["id"], client=author)
        assert submitted["state"] == "pending_approval"
        approved = approve.sync(statement_id=drafted["id"], client=approver,
                                body=ApproveIn(content_hash=submitted["content_hash"]))
        assert approved["state"] == "approved"
        key = str(uuid.uuid4())
        first = publish_statement.sync_detailed(statement_id=drafted["id"], client=admin, idempotency_key=key)
        again = publish_statement.sync_detailed(statement_id=drafted["id"], client=admin, idempotency_key=key)
        assert first.status_code == again.status_code == 202
        assert json.loads(first.content) == json.loads(again.content)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert json.loads(first.content)["state"] == "published"
        log = send_log.sync(client=admin, statement_id=drafted["id"])
        assert log is not None and "items" in log.to_dict()
