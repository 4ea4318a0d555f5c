"""The phone line over HTTP, signed as Twilio signs it (the SDK's RequestValidator), on a real
database: the IVR says the approved script verbatim, callers ask for a call-back, and texts
opt subscribers out and back in."""

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, CallbackRequest, Delivery, Subscriber
from broadcaster.web.app import create_app
from tests.conftest import make_settings
from tests.integration.surfaces_data import open_incident, publish_update, rendition

PUBLIC_URL = "https://status-admin.example.com"
TOKEN = "twilio-auth-token"
CALLER = "+14155550123"


@pytest.fixture
def phone_settings(database_url):
    return make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TOKEN, public_cache_seconds=0,
                         ivr_voice="Polly.Amy", ivr_language="en-GB",
                         sms_notify_on="all")  # every update texts, so "START: it gets the next one" is an update


@pytest.fixture
def client(phone_settings):
    with TestClient(create_app(phone_settings)) as client:
        yield client


def signed_post(client, path: str, form: dict, token: str = TOKEN):
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def call(client, path: str = "/ivr/voice", **extra) -> ET.Element:
    response = signed_post(client, path, {"CallSid": "CA" + "1" * 32, "From": CALLER, "To": "+18005550100",
                                          **extra})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.content)


def says(twiml: ET.Element) -> list[str]:
    return [say.text for say in twiml.iter("Say")]


def callbacks(settings) -> list[tuple[int, str]]:
    with transaction(settings.database_url) as s:
        return [tuple(row) for row in s.execute(select(CallbackRequest.incident_id, CallbackRequest.phone))]


# --- the voice call --------------------------------------------------------------------------


def test_call_hears_the_approved_script_exactly_then_a_one_digit_menu(phone_settings, client):
    incident = open_incident(phone_settings)
    statement = publish_update(phone_settings, incident, headline="Logins fail & <stall>",
                               workaround="Use the app, or call back after 5 PM")
    twiml = call(client)
    first_say = twiml.find("Say")
    assert first_say.text == rendition(phone_settings, statement, "ivr")["script"]
    assert (first_say.get("voice"), first_say.get("language")) == ("Polly.Amy", "en-GB")
    gather = twiml.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert gather.get("action") == f"/ivr/gather?incident={incident}" and gather.get("method") == "POST"
    assert gather.find("Say").text.startswith("To get a text message on this number when this is fixed, press 1.")


def test_call_hears_the_newest_version_and_the_most_severe_incident(phone_settings, client):
    minor = open_incident(phone_settings, "Slow search", "minor", ("Search",))
    publish_update(phone_settings, minor, headline="Search is slow")
    major = open_incident(phone_settings, "Payments down", "major", ("Payments",))
    publish_update(phone_settings, major, headline="Payments fail")
    newest = publish_update(phone_settings, major, status="identified", headline="Payments fault found")
    assert says(call(client))[0] == rendition(phone_settings, newest, "ivr")["script"]


def test_with_nothing_live_the_caller_hears_the_greeting(phone_settings, client):
    incident = open_incident(phone_settings)
    publish_update(phone_settings, incident)
    publish_update(phone_settings, incident, status="resolved", headline="Fixed")
    twiml = call(client)
    assert twiml.find("Gather") is None
    assert says(twiml) == ["Thank you for calling Example Co. There are no known service problems right now. "
                           "For help, please visit our website or our help centre. Goodbye."]


def test_with_nothing_live_a_set_greeting_or_forward_number_is_used(database_url):
    greeting = make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TOKEN,
                             ivr_greeting="Hello from the night desk.")
    with TestClient(create_app(greeting)) as client:
        assert says(call(client)) == ["Hello from the night desk."]
    forward = make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TOKEN,
                            ivr_forward_number="+14155550199")
    with TestClient(create_app(forward)) as client:
        twiml = call(client)
        assert twiml.find("Dial").text == "+14155550199" and says(twiml) == []


@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/gather?incident=1", "/webhooks/twilio/inbound"])
def test_unsigned_or_forged_requests_are_refused_and_audited(phone_settings, client, path):
    form = {"From": CALLER, "Digits": "1", "Body": "STOP"}
    assert client.post(path, data=form).status_code == 403
    assert signed_post(client, path, form, token="someone-elses-token").status_code == 403
    with transaction(phone_settings.database_url) as s:
        refused = s.execute(select(AuditEvent.subject, AuditEvent.detail)
                            .where(AuditEvent.action == "refused: provider callback").order_by(AuditEvent.id)).all()
    assert [subject for subject, _ in refused] == [path.split("?")[0]] * 2
    assert "header is missing" in refused[0][1]["reason"] and "does not match" in refused[1][1]["reason"]
    assert callbacks(phone_settings) == []  # and nothing changed


# --- pressing a key ----------------------------------------------------------------------------


def test_pressing_1_records_one_call_back_per_number_and_incident(phone_settings, client):
    incident = open_incident(phone_settings)
    publish_update(phone_settings, incident)
    path = f"/ivr/gather?incident={incident}"
    for _ in range(2):  # the same caller, twice
        twiml = call(client, path, Digits="1")
        # By default a caller who presses 1 is texted (BROADCASTER_IVR_CALLBACK_CALLS is off): said so.
        assert says(twiml) == ["Thank you. When the issue is fixed, we will send a text message to this number. "
                               "Goodbye."]
    call(client, "/ivr/gather", Digits="1", From="+14155550124")  # no incident given: the live one
    assert sorted(callbacks(phone_settings)) == [(incident, CALLER), (incident, "+14155550124")]


def test_pressing_1_without_a_callable_number_or_after_the_fix_records_nothing(phone_settings, client):
    incident = open_incident(phone_settings)
    publish_update(phone_settings, incident)
    hidden = call(client, f"/ivr/gather?incident={incident}", Digits="1", From="anonymous")
    assert "cannot see a number" in says(hidden)[0]
    publish_update(phone_settings, incident, status="resolved", headline="Fixed")
    late = call(client, f"/ivr/gather?incident={incident}", Digits="1")
    assert "now resolved" in says(late)[0]
    assert callbacks(phone_settings) == []


def test_pressing_2_plays_the_message_again(phone_settings, client):
    incident = open_incident(phone_settings)
    publish_update(phone_settings, incident)
    twiml = call(client, f"/ivr/gather?incident={incident}", Digits="2")
    redirect = twiml.find("Redirect")
    assert redirect.text == "/ivr/voice" and redirect.get("method") == "POST"
    assert callbacks(phone_settings) == []


# --- inbound SMS keywords ----------------------------------------------------------------------


def text(client, body: str, sender: str = CALLER) -> ET.Element:
    response = signed_post(client, "/webhooks/twilio/inbound", {"From": sender, "To": "+18005550100",
                                                               "Body": body, "MessageSid": "SM" + "2" * 32})
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content)


def reply(twiml: ET.Element) -> str | None:
    message = twiml.find("Message")
    return message.text if message is not None else None


def sms_targets(settings, statement_id: int) -> list[str]:
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(Delivery.target).where(Delivery.statement_id == statement_id,
                                                            Delivery.channel == "sms")))


def add_subscriber(settings, phone: str) -> None:
    with transaction(settings.database_url) as s:
        s.add(Subscriber(phone=phone, locale="en", components=[]))


def test_stop_then_publish_sends_that_number_nothing_and_start_brings_it_back(phone_settings, client):
    add_subscriber(phone_settings, CALLER)
    add_subscriber(phone_settings, "+14155550124")
    incident = open_incident(phone_settings)
    assert "no more status texts" in reply(text(client, " stop "))
    before = publish_update(phone_settings, incident)
    assert sms_targets(phone_settings, before) == ["+14155550124"]
    assert "again" in reply(text(client, "START"))
    after = publish_update(phone_settings, incident, status="identified", headline="Found it")
    assert sorted(sms_targets(phone_settings, after)) == [CALLER, "+14155550124"]
    with transaction(phone_settings.database_url) as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(("opt out", "opt in")))
                                 .order_by(AuditEvent.id)))
    assert actions == ["opt out", "opt in"]


def test_stop_cancels_sms_not_sent_yet(phone_settings, client):
    add_subscriber(phone_settings, CALLER)
    statement = publish_update(phone_settings, open_incident(phone_settings), dispatch=lambda settings, ids: None)
    text(client, "UNSUBSCRIBE")
    with transaction(phone_settings.database_url) as s:
        status = s.scalar(select(Delivery.status).where(Delivery.statement_id == statement,
                                                        Delivery.target == CALLER))
    assert status == "cancelled"


def test_help_answers_and_other_texts_get_no_reply(phone_settings, client):
    add_subscriber(phone_settings, CALLER)
    assert "Reply STOP to stop" in reply(text(client, "help"))
    assert reply(text(client, "is the site down?")) is None
    assert "not subscribed" in reply(text(client, "START", sender="+14155550177"))
    with transaction(phone_settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Subscriber).where(Subscriber.opted_out_at.is_not(None))) == 0


def test_the_menu_promises_exactly_what_the_call_back_setting_does(database_url):
    """A text by default; a call back (and a text) only when calls are on: never "we will call you"
    to a caller who will be texted."""
    for calls, menu, recorded in (
            (False, "To get a text message on this number when this is fixed, press 1.",
             "Thank you. When the issue is fixed, we will send a text message to this number. Goodbye."),
            (True, "To get a call back and a text message on this number when this is fixed, press 1.",
             "Thank you. When the issue is fixed, we will call you back on this number and send it a text "
             "message. Goodbye.")):
        settings = make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TOKEN,
                                 public_cache_seconds=0, ivr_callback_calls=calls)
        incident = open_incident(settings, title=f"Outage {calls}")
        publish_update(settings, incident)
        with TestClient(create_app(settings)) as client:
            offered = call(client).find("Gather").find("Say").text
            assert offered.startswith(menu)
            assert ("call back" in offered) is calls
            assert says(call(client, f"/ivr/gather?incident={incident}", Digits="1")) == [recorded]
        publish_update(settings, incident, status="resolved", headline="Fixed")
