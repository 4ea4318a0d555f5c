"""Follow-up on resolve: IVR callers who pressed 1 get the resolved statement's SMS through the
delivery engine (logged, opt-outs honoured, once), and with `ivr_callback_calls` a call whose
`url=` plays the resolved IVR script."""

import json
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from twilio.request_validator import RequestValidator

from broadcaster.channels.base import SendContext, Target
from broadcaster.channels.ivr import TwilioCall
from broadcaster.config import Settings
from broadcaster.store.db import transaction
from broadcaster.store.models import CallbackRequest, Delivery, DeliveryEvent, Subscriber, utcnow
from broadcaster.surfaces import phone
from broadcaster.web.app import create_app
from tests.conftest import make_settings
from tests.integration.surfaces_data import open_incident, publish_update, rendition
from tests.unit.channels.stub_http import StubServer

PUBLIC_URL = "https://status-admin.example.com"
TOKEN = "twilio-auth-token"
CALLERS = ("+14155550123", "+14155550124")


def deliveries(settings, statement_id: int, channel: str) -> list[tuple[str, str]]:
    with transaction(settings.database_url) as s:
        return sorted(s.execute(select(Delivery.target, Delivery.status).where(
            Delivery.statement_id == statement_id, Delivery.channel == channel, Delivery.target != channel)).all())


def notified(settings) -> dict[str, bool]:
    with transaction(settings.database_url) as s:
        return {p: n is not None for p, n in s.execute(select(CallbackRequest.phone, CallbackRequest.notified_at))}


def callers_of_an_open_incident(settings) -> int:
    incident = open_incident(settings)
    publish_update(settings, incident)
    for number in CALLERS:
        assert phone.request_callback(settings, incident, number) == "recorded"
    return incident


def test_resolving_texts_every_caller_the_resolved_sms_once(database_url):
    settings = make_settings(database_url)
    incident = callers_of_an_open_incident(settings)
    update = publish_update(settings, incident, status="identified", headline="Found it")
    assert deliveries(settings, update, "sms") == []  # not fixed yet: nobody is called back
    resolved = publish_update(settings, incident, status="resolved", headline="Fixed")
    assert deliveries(settings, resolved, "sms") == [(n, "simulated") for n in CALLERS]
    assert notified(settings) == {n: True for n in CALLERS}
    with transaction(settings.database_url) as s:  # in the send log, with the approved words' channel
        logged = s.scalars(select(DeliveryEvent.detail).where(DeliveryEvent.statement_id == resolved,
                                                              DeliveryEvent.target == CALLERS[0])).all()
    assert any("asked to hear when it is fixed" in d for d in logged)
    assert deliveries(settings, resolved, "call") == []  # calls are off by default


def test_an_opted_out_caller_gets_nothing_and_a_subscribed_caller_gets_one_text(database_url):
    settings = make_settings(database_url)
    with transaction(settings.database_url) as s:
        s.execute(insert(Subscriber), [{"phone": CALLERS[0], "locale": "en", "components": [],
                                        "opted_out_at": utcnow()},
                                       {"phone": CALLERS[1], "locale": "en", "components": []}])
    incident = callers_of_an_open_incident(settings)
    resolved = publish_update(settings, incident, status="resolved", headline="Fixed")
    assert deliveries(settings, resolved, "sms") == [(CALLERS[1], "simulated")]  # once, not twice


def test_with_calls_on_each_caller_is_called_with_a_url_that_plays_the_resolved_script(database_url):
    settings = make_settings(database_url, ivr_callback_calls=True, public_url=PUBLIC_URL)
    incident = callers_of_an_open_incident(settings)
    resolved = publish_update(settings, incident, status="resolved", headline="Fixed")
    assert deliveries(settings, resolved, "call") == [(n, "simulated") for n in CALLERS]
    with transaction(settings.database_url) as s:  # the log provider: what the call would play
        events = s.scalars(select(DeliveryEvent.detail).where(DeliveryEvent.statement_id == resolved,
                                                              DeliveryEvent.channel == "call",
                                                              DeliveryEvent.status == "simulated")).all()
    script = rendition(settings, resolved, "ivr")["script"]
    assert len(events) == 2 and all(json.loads(e)["script"] == script for e in events), events

    signed = make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TOKEN)
    path = f"/ivr/resolved?statement={resolved}"
    form = {"CallSid": "CA" + "2" * 32, "To": CALLERS[0]}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + path, form)
    with TestClient(create_app(signed)) as client:
        answer = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200
        # Not "thank you for calling": we are the ones calling, as they asked.
        said = [say.text for say in ET.fromstring(answer.content).iter("Say")]
        assert said == [rendition(settings, resolved, "ivr")["callback"]]
        assert said[0].startswith("Hello, this is Example Co, calling back as you asked")
        assert client.post(path, data=form).status_code == 403  # unsigned


@pytest.fixture
def stub(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with StubServer() as server:
        yield server


def test_a_call_back_uses_the_twilio_calls_api_with_url_not_inline_twiml(stub):
    settings = Settings(_env_file=None, twilio_account_sid="AC" + "0" * 32, twilio_auth_token="t",
                        twilio_from="+15005550006", twilio_api_base=stub.url, public_url=PUBLIC_URL)
    stub.reply(201, {"sid": "CA" + "9" * 32, "status": "queued"})
    [result] = TwilioCall(settings).notify({"script": "Fixed."}, [Target(5, CALLERS[0])],
                                          SendContext(statement_id=12, incident_id=3, version=4))
    assert (result.status, result.provider_message_id) == ("sent", "CA" + "9" * 32)
    request = stub.requests[0]
    assert request.path.endswith("/Calls.json")
    assert request.form()["Url"] == [f"{PUBLIC_URL}/ivr/resolved?statement=12"]
    assert "Twiml" not in request.form()
    # A caller who chose Spanish on the phone line: the answered call asks for the Spanish words.
    stub.reply(201, {"sid": "CA" + "8" * 32, "status": "queued"})
    TwilioCall(settings).notify({"script": "Resuelto."}, [Target(6, CALLERS[1])],
                                SendContext(statement_id=12, incident_id=3, version=4, locale="es"))
    assert stub.requests[1].form()["Url"] == [f"{PUBLIC_URL}/ivr/resolved?statement=12&lang=es"]


def test_a_call_back_answered_502_is_reconciled_and_never_placed_twice(database_url, redis_broker, tmp_path):
    """Twilio accepts the first call and then answers 502: the delivery is `unknown`, the sweep finds
    the call in Twilio's call list and records it `sent`. The other caller's call went through. Each
    number is called exactly once, by real workers, through the official SDK."""
    from broadcaster.delivery import sweep as sweeping
    from broadcaster.delivery.enqueue import enqueue, enqueue_due
    from tests.fakes.server import running_fake
    from tests.integration.engine import Workers, as_env, provider_settings, settled, wait_until

    with running_fake() as fake:
        values = {"database_url": database_url, "broker_url": redis_broker, **provider_settings(fake.url),
                  "public_url": PUBLIC_URL, "ivr_callback_calls": True, "twilio_call_rate": "100/second",
                  "sweep_interval_seconds": 1}
        settings = make_settings(**values)
        workers = Workers(as_env(values), tmp_path)
        try:
            workers.start(concurrency=2)
            incident = callers_of_an_open_incident(settings)
            fake.faults(fail_next=1, status=502, deliver=True, provider="twilio", path="/Calls.json")
            resolved = publish_update(settings, incident, status="resolved", headline="Fixed", dispatch=enqueue)

            def all_done() -> bool:
                sweeping.sweep(settings, enqueue_due)  # what beat does: reconcile, then resend what is due
                return settled(settings, resolved)

            wait_until(all_done, 60, "every call back to be decided", poll=1.0)
        finally:
            workers.stop_all()
        assert fake.counts()["calls"] == {number: 1 for number in CALLERS}  # a 502 never became a second call
        assert fake.counts()["faults_injected"] == 1
        placed = {c["to"]: c for c in fake.messages()["calls"]}
    # In the statement's own language: these callers chose none on the phone line.
    assert {c["url"] for c in placed.values()} == {f"{PUBLIC_URL}/ivr/resolved?statement={resolved}&lang=en"}
    with transaction(settings.database_url) as s:
        rows = dict(s.execute(select(Delivery.target, Delivery.provider_message_id).where(
            Delivery.statement_id == resolved, Delivery.channel == "call", Delivery.status == "sent")).all())
        reconciled = s.scalars(select(DeliveryEvent.detail).where(
            DeliveryEvent.statement_id == resolved, DeliveryEvent.channel == "call")).all()
    assert rows == {number: placed[number]["sid"] for number in CALLERS}
    assert any("it may have gone out" in d for d in reconciled) and "reconciled: the provider has it" in reconciled
    assert deliveries(settings, resolved, "sms") == [(n, "sent") for n in CALLERS]  # the texts, once each
