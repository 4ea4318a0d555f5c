"""The call back to an IVR caller (channel `call`) against a scripted stub of Twilio's Calls API,
through the real twilio SDK: what each answer means, and how an unsure call is looked up."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from broadcaster.channels import channel
from broadcaster.channels.base import SendContext, Target, TransportError
from broadcaster.channels.ivr import TwilioCall
from broadcaster.config import Settings

from .stub_http import StubServer, closed_port_url

SID = "AC" + "0123456789abcdef" * 2
OURS = "+15005550006"
CALLER = "+14155550123"
CONTEXT = SendContext(statement_id=12, incident_id=3, version=4)


@pytest.fixture
def stub(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with StubServer() as server:
        yield server


def calls(base: str) -> TwilioCall:
    return TwilioCall(Settings(_env_file=None, twilio_account_sid=SID, twilio_auth_token="t", twilio_from=OURS,
                               twilio_api_base=base, public_url="https://admin.example.com"))


def call_resource(sid: str, created: datetime) -> dict:
    return {"sid": sid, "to": CALLER, "from": OURS, "status": "queued", "direction": "outbound-api",
            "date_created": format_datetime(created)}


def test_a_call_is_not_idempotent_and_is_reconciled_with_twilio():
    call = channel("call")
    assert not call.idempotent and call.rendition == "ivr" and call.on_bulk_queue
    assert not call.delivered_at_publish  # only the follow-up on resolve writes its deliveries
    assert channel("ivr").idempotent  # showing the line's message again is harmless; calling is not


def test_a_5xx_after_the_request_may_mean_a_placed_call(stub):
    stub.reply(502, {"code": 20500, "message": "Bad Gateway", "status": 502})
    with pytest.raises(TransportError) as raised:
        calls(stub.url).notify({"script": "Fixed."}, [Target(5, CALLER)], CONTEXT)
    assert raised.value.ambiguous and not raised.value.permanent  # unknown: reconciled, not resent


def test_a_refused_connection_is_a_call_never_placed(stub):
    with pytest.raises(TransportError) as raised:
        calls(closed_port_url()).notify({"script": "Fixed."}, [Target(5, CALLER)], CONTEXT)
    assert not raised.value.ambiguous and not raised.value.permanent  # safe to try again at once


def test_reconciliation_finds_a_call_made_since_the_attempt_and_only_such_a_call(stub):
    attempt = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    stub.reply(200, {"calls": [call_resource("CA" + "1" * 32, attempt + timedelta(seconds=3))], "page": 0,
                     "page_size": 50, "uri": "/x", "next_page_uri": None})
    stub.reply(200, {"calls": [call_resource("CA" + "2" * 32, attempt - timedelta(hours=2))], "page": 0,
                     "page_size": 50, "uri": "/x", "next_page_uri": None})
    transport = calls(stub.url)
    assert transport.find_sent({}, Target(5, CALLER), attempt.isoformat()) == "CA" + "1" * 32
    assert transport.find_sent({}, Target(5, CALLER), attempt.isoformat()) is None  # an older call is not this one
    listed = stub.requests[0]
    assert listed.path.endswith("/Calls.json") and listed.query["To"] == [CALLER] and listed.query["From"] == [OURS]
