"""What the tests of emailed holding links share: the fake SendGrid, a calm installation with a holding
statement kept and its links emailed, the web app, and reading a page as its reader does. The tests:
test_holding_links.py (sending the links), test_holding_link_confirm.py (the confirm page and a refused
press that keeps it), test_holding_link_refused.py (a link that no longer switches anything on)."""

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from broadcaster.delivery.chunk import send_now
from broadcaster.holding import emailed_links, holding_statements
from broadcaster.incidents import statements
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent
from broadcaster.web.app import create_app
from tests.conftest import actor, add_subscriber, add_user, make_settings
from tests.fakes.server import running_fake
from tests.integration.holding_data import approved_holding_statement

PUBLIC_URL = "https://broadcaster.example.com"
TWILIO_TOKEN = "twilio-auth-token"
BOB_PHONE = "+14155550142"
READY = "Holding statement #1 (“Login problems”) is not live: it is still ready to be switched on."


@pytest.fixture(scope="module")
def sendgrid():
    """The fake provider, for SendGrid (the links' emails go through the official SDK)."""
    with running_fake() as server:
        yield server


@pytest.fixture
def calm(database_url, sendgrid):
    """Alice (author) wrote a holding statement, Bob (approver) approved it; both have a PIN and an
    email; Carol (author) has an email but no PIN; Sam (social) may not switch anything on."""
    sendgrid.reset()
    settings = make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TWILIO_TOKEN,
                             sendgrid_api_key="SG.test", sendgrid_host=sendgrid.url, sendgrid_rate="100000/second")
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com", phone=BOB_PHONE)
    add_user(settings, "carol", ["author"], email="carol@example.com")
    add_user(settings, "sam", ["social"], email="sam@example.com")
    holding_statements.set_pin(settings, "alice", "1357")
    holding_statements.set_pin(settings, "bob", "4821")
    add_subscriber(settings, email="customer@example.com", phone="+14155550123")
    statement_id, alice = approved_holding_statement(settings), actor(settings, "alice")
    number = holding_statements.keep(settings, alice, statement_id)["number"]
    sent = emailed_links.send_links(settings, alice, number)
    return settings, statement_id, number, sent


@pytest.fixture
def client(calm):
    app = create_app(calm[0])
    app.state.dispatch = send_now  # the live surfaces and the fan-out, sent in this process
    with TestClient(app) as client:
        yield client


def link_of(sent: dict, user: str) -> tuple[str, str]:
    """(path, token) of the link `user` was emailed."""
    url = next(s.url for s in sent["sent"] if s.user == user)
    path, token = url.removeprefix(PUBLIC_URL).split("?t=")
    return path, token


def state(settings, statement_id: int) -> str:
    return statements.get_statement(settings, statement_id)["state"]


def last_audit(settings) -> tuple[str, dict]:
    with transaction(settings.database_url) as s:
        row = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        return row.action, row.detail


def said(response, part: str) -> str:
    """The words of the page's element `part` (an id), as a reader reads them: tags dropped, spaces joined."""
    found = re.search(rf'id="{part}"[^>]*>(.*?)</(?:h1|p|div)>', response.text, re.S)
    assert found, f"no #{part} on the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def pin_form(page: str) -> str | None:
    """The confirm page's form with its PIN field, if the page has one."""
    found = re.search(r'<form method="post".*?name="pin".*?</form>', page, re.S)
    return found.group(0) if found else None

