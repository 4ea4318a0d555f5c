"""Every recipient hears the approved words in their own language, end to end through real parts:
`celery worker` processes on Redis, SQLite and PostgreSQL, the official SDKs against the fake
provider, webhooks to a local receiver. A Spanish-locale subscriber gets the Spanish SMS, email and
webhook, an English one the English; a caller who chose Spanish on the phone line hears back in
Spanish; an unsure send is reconciled against the words of its own language."""

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from broadcaster.approvals import decisions
from broadcaster.delivery import sendlog
from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.enqueue import enqueue, enqueue_due
from broadcaster.incidents import publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, DeliveryEvent, Rendition
from broadcaster.surfaces import phone
from broadcaster.web.app import create_app
from tests.conftest import actor, add_subscriber, add_user, make_settings
from tests.integration.engine import (
    LIVE_SENT,
    UNCONFIGURED,
    as_env,
    provider_settings,
    settled,
    status_counts,
    wait_until,
)
from tests.integration.surfaces_data import open_incident, publish_update
from tests.unit.channels.stub_http import StubServer

SPANISH = {"headline": "Algunos clientes no pueden iniciar sesión", "body": "Falla uno de cada cinco inicios.",
           "workaround": "Use la aplicación móvil."}
FIXED = {"resolution": "Logins work again.", "es": "El inicio de sesión funciona de nuevo."}


@pytest.fixture
def values(database_url, redis_broker, fake) -> dict:
    return {"database_url": database_url, "broker_url": redis_broker, **provider_settings(fake.url),
            "locales": "es", "sms_notify_on": "all", "ivr_callback_calls": True, "lease_seconds": 4,
            "sweep_interval_seconds": 1, "backoff_base_seconds": 0.5, "backoff_cap_seconds": 2}


@pytest.fixture
def settings(values):
    return make_settings(**values)


@pytest.fixture
def workers(values, kept_workers):
    pool = kept_workers(as_env(values))
    yield pool
    pool.stop_all()


def stored(settings, statement_id: int) -> dict[str, dict[str, dict]]:
    """{locale: {channel: fields}} as approved ('' is the statement's own language)."""
    with transaction(settings.database_url) as s:
        rows = s.execute(select(Rendition.locale, Rendition.channel, Rendition.fields)
                         .where(Rendition.statement_id == statement_id)).all()
    found: dict[str, dict[str, dict]] = {}
    for locale, channel, fields in rows:
        found.setdefault(locale, {})[channel] = fields
    return found


def settle(settings, statement_id: int) -> None:
    def done() -> bool:
        sweeping.sweep(settings, enqueue_due)  # what beat does: reconcile, then resend what is due
        return settled(settings, statement_id)

    wait_until(done, 90, "every delivery to be decided", poll=0.5)


def test_each_subscriber_gets_the_sms_email_and_webhook_in_their_own_language(settings, workers, fake):
    workers.start()
    with StubServer() as receiver:
        phones = {"es": "+14155550101", "es-MX": "+14155550102", "en": "+14155550103", "fr": "+14155550104"}
        for tag, number in phones.items():
            add_subscriber(settings, locale=tag, email=f"{tag.lower()}@example.com", phone=number,
                           webhook_url=f"{receiver.url}/hook/{tag}")
        add_user(settings, "alice", ["author"])
        add_user(settings, "bob", ["approver"])
        alice = actor(settings, "alice")
        incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
        draft = statements.draft(settings, alice, incident["id"], StatementInput(
            status="investigating", headline="Some customers cannot log in", body="One login in five fails.",
            workaround="Use the mobile app.", next_update="30m", translations={"es": SPANISH}))
        statements.submit(settings, alice, draft["id"])
        decisions.approve(settings, actor(settings, "bob"), draft["id"])
        publishing.publish(settings, alice, draft["id"], dispatch=enqueue)
        settle(settings, draft["id"])
        hooks = {r.path.rsplit("/", 1)[-1]: r.json() for r in receiver.requests}

    words = stored(settings, draft["id"])
    spanish, english = words["es"], words[""]
    # A Mexican reader gets the Spanish; a French one, with no French translation, the statement's own.
    reads = {"es": spanish, "es-MX": spanish, "en": english, "fr": english}
    messages = fake.messages()
    assert {m["to"]: m["body"] for m in messages["sms"]} == {
        number: reads[tag]["sms"]["text"] for tag, number in phones.items()}
    assert spanish["sms"]["text"].startswith("Example Co - Investigando: Algunos clientes no pueden")
    emails = {m["to"]: m for m in messages["email"]}
    for tag in phones:
        email = emails[f"{tag.lower()}@example.com"]
        assert email["subject"] == reads[tag]["email"]["subject"]
        assert [c["value"] for c in email["content"]] == [reads[tag]["email"]["body_text"],
                                                          reads[tag]["email"]["body_html"]]
    # One SendGrid batch carries one text: a batch per language.
    assert len({emails[a]["message_id"] for a in ("es@example.com", "es-mx@example.com")}) == 1
    assert emails["es@example.com"]["message_id"] != emails["en@example.com"]["message_id"]
    assert {tag: (hook["language"], hook["headline"]) for tag, hook in hooks.items()} == {
        "es": ("es", SPANISH["headline"]), "es-MX": ("es", SPANISH["headline"]),
        "en": ("en", "Some customers cannot log in"), "fr": ("en", "Some customers cannot log in")}
    counts = fake.counts()
    assert sorted(counts["sms"].values()) == [1] * 4 and sorted(counts["email"].values()) == [1] * 4
    assert status_counts(settings, draft["id"]) == {"sent": LIVE_SENT + 4 * 3, **UNCONFIGURED}  # 12 sends
    # The send log says which language went out, on every line of a recipient's delivery.
    sent = sendlog.send_log(settings, statement_id=draft["id"], status="sent")
    assert {(e["channel"], e["target"]): e["locale"] for e in sent if e["channel"] == "sms"} == {
        ("sms", number): ("es" if tag.startswith("es") else "en") for tag, number in phones.items()}
    assert {e["locale"] for e in sent if e["channel"] in ("banner", "status_page", "ivr")} == {None}
    with transaction(settings.database_url) as s:
        logged = set(s.execute(select(DeliveryEvent.target, DeliveryEvent.locale)
                               .where(DeliveryEvent.channel == "email")).all())
    assert logged == {(f"{tag.lower()}@example.com", "es" if tag.startswith("es") else "en") for tag in phones}


def test_callers_hear_back_in_their_language_and_an_unsure_text_is_reconciled_in_it(settings, workers, fake):
    """Two callers asked to hear when it is fixed, one in Spanish, one without choosing. The first
    follow-up text is accepted by Twilio and answered 502: reconciliation must look for that caller's
    own words (the follow-up text in their language), or it would text them twice."""
    incident = open_incident(settings)
    publish_update(settings, incident, workaround="Use the mobile app.", translations={"es": SPANISH})
    spanish_caller, caller = "+14155550111", "+14155550112"
    assert phone.request_callback(settings, incident, spanish_caller, "es") == "recorded"
    assert phone.request_callback(settings, incident, caller) == "recorded"
    workers.start()
    fake.faults(fail_next=1, status=502, deliver=True, provider="twilio", path="/Messages.json")
    resolved = publish_update(settings, incident, status="resolved", headline="Fixed", dispatch=enqueue,
                              resolution=FIXED["resolution"], workaround="Use the mobile app.",
                              translations={"es": {**SPANISH, "resolution": FIXED["es"]}})
    settle(settings, resolved)

    words = stored(settings, resolved)
    texts = {spanish_caller: words["es"]["sms"]["followup"], caller: words[""]["sms"]["followup"]}
    assert texts[spanish_caller].startswith("Example Co: nos pidió que le avisáramos cuando estuviera resuelto.")
    assert FIXED["es"] in texts[spanish_caller] and FIXED["resolution"] in texts[caller]
    assert fake.counts()["sms"] == {spanish_caller: 1, caller: 1}  # the 502 never became a second text
    assert fake.counts()["faults_injected"] == 1
    assert {m["to"]: m["body"] for m in fake.messages()["sms"]} == texts
    public = provider_settings(fake.url)["public_url"]
    calls = {c["to"]: c["url"] for c in fake.messages()["calls"]}
    assert calls == {spanish_caller: f"{public}/ivr/resolved?statement={resolved}&lang=es",
                     caller: f"{public}/ivr/resolved?statement={resolved}&lang=en"}
    with transaction(settings.database_url) as s:
        rows = s.execute(select(Delivery.channel, Delivery.target, Delivery.status, Delivery.locale)
                         .where(Delivery.statement_id == resolved, Delivery.follow_up)).all()
        details = s.scalars(select(DeliveryEvent.detail).where(DeliveryEvent.statement_id == resolved,
                                                               DeliveryEvent.channel == "sms")).all()
    assert sorted(rows) == sorted([(channel, number, "sent", "es" if number == spanish_caller else "en")
                                   for channel in ("call", "sms") for number in (spanish_caller, caller)])
    assert "reconciled: the provider has it" in details
    # The Spanish caller's call, answered: the call-back words in Spanish, in Spanish TwiML.
    signed = make_settings(settings.database_url, locales="es", public_url=public, twilio_auth_token="token")
    path = calls[spanish_caller].removeprefix(public)
    form = {"CallSid": "CA" + "3" * 32, "To": spanish_caller}
    signature = RequestValidator("token").compute_signature(public + path, form)
    with TestClient(create_app(signed)) as client:
        answer = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    say = ET.fromstring(answer.content).find("Say")
    assert (say.text, say.get("language")) == (words["es"]["ivr"]["callback"], "es-US")


def test_spanish_words_rewritten_after_publish_never_go_out(database_url):
    """The send re-hashes the rendition it picked, in the recipient's language, against the approval."""
    from sqlalchemy import update

    from broadcaster.delivery.chunk import send_now

    settings = make_settings(database_url, locales="es")
    add_subscriber(settings, locale="es", phone="+14155550121")
    add_subscriber(settings, locale="en", phone="+14155550122")
    incident = open_incident(settings)
    held: list[int] = []
    statement = publish_update(settings, incident, workaround="Use the mobile app.", translations={"es": SPANISH},
                               dispatch=lambda _settings, ids: held.extend(ids))
    with transaction(settings.database_url) as s:
        s.execute(update(Rendition).where(Rendition.statement_id == statement, Rendition.locale == "es",
                                          Rendition.channel == "sms").values(fields={"text": "Todo bien."}))
    send_now(settings, held)
    with transaction(settings.database_url) as s:
        sms = dict(s.execute(select(Delivery.locale, Delivery.error_code).where(
            Delivery.statement_id == statement, Delivery.channel == "sms")).all())
    assert sms == {"es": "tampered", "en": "tampered"}  # one hash covers every language: nothing of it goes
    assert not [e for e in sendlog.send_log(settings, statement_id=statement) if e["status"] == "simulated"]
