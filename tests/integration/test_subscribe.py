"""The public subscribe form on the public app: double opt-in by email link (subscribes only on
POST) or SMS code, rate-limited per address, a one-time manage link; and the per-channel rules
that decide which updates each channel gets."""

import logging
import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from broadcaster.incidents import components
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, Delivery, DeliveryEvent, Subscriber
from broadcaster.web.public import create_public_app
from tests.conftest import actor, make_settings
from tests.integration.engine import provider_settings
from tests.integration.messages_sent import token_sent_to, words_sent_to
from tests.integration.surfaces_data import ensure_users, open_incident, publish_update

SITE = "https://status.example.com"


@pytest.fixture
def signup_settings(database_url):
    # a limiter of this test's own: the in-memory one lives as long as the process
    return make_settings(database_url, status_page_url=SITE, signup_rate="2/hour",
                         signup_rate_storage=f"memory://?{uuid.uuid4().hex}", secret_key="s" * 40)


@pytest.fixture
def client(signup_settings):
    with TestClient(create_public_app(signup_settings)) as client:
        yield client


def subscribers(settings) -> list[tuple]:
    with transaction(settings.database_url) as s:
        return [tuple(r) for r in s.execute(select(Subscriber.email, Subscriber.phone, Subscriber.components,
                                                   Subscriber.opted_out_at.is_(None)))]


def sent_text(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "broadcaster.send")


def test_email_sign_up_subscribes_only_when_the_confirm_page_is_posted(signup_settings, client, caplog):
    ensure_users(signup_settings)
    components.add_component(signup_settings, actor(signup_settings, "alice"), "Login")
    components.add_component(signup_settings, actor(signup_settings, "alice"), "API")
    assert 'value="Login"' in client.get("/subscribe").text
    with caplog.at_level(logging.INFO, logger="broadcaster.send"):
        page = client.post("/subscribe", data={"email": "Ann@Example.com", "component": ["Login"]})
    assert page.status_code == 200 and "Check your email" not in page.text  # the `log` provider: nothing went
    assert "No email was sent" in page.text and " ".join(re.sub(r"<[^>]+>", "", page.text).split()).count(
        "This status page cannot send email yet, so no confirmation email went to Ann@example.com, and you are not "
        "signed up. Until it can, every update is on the status page.") == 1
    assert "/subscribe/confirm?token=[hidden]" in sent_text(caplog)  # the log provider: the token is not in it
    link = re.search(re.escape(SITE) + r"/subscribe/confirm\?token=([\w.-]+)",
                     words_sent_to(signup_settings, "Ann@example.com"))
    token = link.group(1)
    assert "Yes, subscribe me" in client.get(f"/subscribe/confirm?token={token}").text
    assert subscribers(signup_settings) == []  # following the link (a mail scanner) subscribes nobody
    done = client.post("/subscribe/confirm", data={"token": token})
    assert done.status_code == 200 and "You are subscribed" in done.text
    assert subscribers(signup_settings) == [("Ann@example.com", None, ["Login"], True)]
    assert client.post("/subscribe/confirm", data={"token": token}).status_code == 403  # once


def test_sms_sign_up_is_confirmed_with_the_texted_code(signup_settings, client, caplog):
    with caplog.at_level(logging.INFO, logger="broadcaster.send"):
        page = client.post("/subscribe", data={"phone": "+1 415 555 0199"})
    assert "No text message was sent" in page.text and 'name="code"' not in page.text  # no code to type in
    token = token_sent_to(signup_settings, "+14155550199")
    assert "your code is [hidden]" in sent_text(caplog)
    code = re.search(r"your code is (\d{6})", words_sent_to(signup_settings, "+14155550199")).group(1)
    wrong = client.post("/subscribe/verify", data={"token": token, "code": "000000" if code != "000000" else "1"})
    assert wrong.status_code == 400 and "not the code we sent" in wrong.text
    assert subscribers(signup_settings) == []
    done = client.post("/subscribe/verify", data={"token": token, "code": code})
    assert done.status_code == 200
    assert subscribers(signup_settings) == [(None, "+14155550199", [], True)]


def test_a_sign_up_on_the_spanish_page_is_confirmed_in_spanish_and_reads_its_updates_in_spanish(database_url):
    settings = make_settings(database_url, status_page_url=SITE, locales=["es", "ja"], secret_key="s" * 40,
                             signup_rate_storage=f"memory://?{uuid.uuid4().hex}")
    with TestClient(create_public_app(settings)) as client:
        assert '<input type="hidden" name="lang" value="es">' in client.get("/subscribe?lang=es-MX").text
        assert '<input type="hidden" name="lang" value="en">' in client.get("/subscribe?lang=klingon").text
        assert client.post("/subscribe", data={"email": "ana@example.com", "lang": "es"}).status_code == 200
        words = words_sent_to(settings, "ana@example.com")
        assert "Confirme que desea recibir avisos de estado de Example Co:" in words
        assert "Confirmar mi suscripción" in words and "status updates" not in words
        token = re.search(r"confirm\?token=([\w.-]+)", words).group(1)
        assert client.post("/subscribe/confirm", data={"token": token}).status_code == 200
        page = client.post("/subscribe", data={"phone": "+1 415 555 0198", "lang": "ja"})
        code = re.search(r"確認コードは (\d{6}) です", words_sent_to(settings, "+14155550198")).group(1)
        assert page.status_code == 200
        request = token_sent_to(settings, "+14155550198")
        assert client.post("/subscribe/verify", data={"token": request, "code": code}).status_code == 200
        # No language, or one the installation does not speak: its default.
        client.post("/subscribe", data={"email": "carl@example.com", "lang": "x" * 5000})
        token = re.search(r"confirm\?token=([\w.-]+)", words_sent_to(settings, "carl@example.com")).group(1)
        assert "Confirm that you want status updates" in words_sent_to(settings, "carl@example.com")
        assert client.post("/subscribe/confirm", data={"token": token}).status_code == 200
    with transaction(settings.database_url) as s:
        locales = dict(s.execute(select(func.coalesce(Subscriber.email, Subscriber.phone), Subscriber.locale)).all())
        logged = set(s.execute(select(DeliveryEvent.target, DeliveryEvent.locale)).all())
    assert locales == {"ana@example.com": "es", "+14155550198": "ja", "carl@example.com": "en"}
    assert logged == {("ana@example.com", "es"), ("+14155550198", "ja"), ("carl@example.com", "en")}


def test_sign_ups_are_rate_limited_per_address_and_bad_input_is_one_line(client):
    for _ in range(2):
        assert client.post("/subscribe", data={"email": "flood@example.com"}).status_code == 200
    limited = client.post("/subscribe", data={"email": "flood@example.com"})
    assert limited.status_code == 429 and "too many sign-ups" in limited.text
    assert client.post("/subscribe", data={"email": "other@example.com"}).status_code == 200  # per address
    bad = client.post("/subscribe", data={"email": "not-an-address"})
    assert bad.status_code == 400 and "is not a valid email address" in bad.text
    assert client.post("/subscribe", data={}).status_code == 400


def test_the_manage_link_changes_then_cancels_and_each_link_works_once(signup_settings, client, caplog):
    with caplog.at_level(logging.INFO, logger="broadcaster.send"):
        client.post("/subscribe", data={"email": "bo@example.com"})
    token = re.search(r"confirm\?token=([\w.-]+)", words_sent_to(signup_settings, "bo@example.com")).group(1)
    done = client.post("/subscribe/confirm", data={"token": token})
    s, t = re.search(r"/subscribe/manage\?s=(\d+)&amp;t=(\w+)", done.text).groups()
    assert client.get(f"/subscribe/manage?s={s}&t={t}").status_code == 200
    changed = client.post("/subscribe/manage", data={"s": s, "t": t, "action": "save", "component": ["API"]})
    assert changed.status_code == 200 and subscribers(signup_settings)[0][2] == ["API"]
    assert client.post("/subscribe/manage", data={"s": s, "t": t, "action": "cancel"}).status_code == 403  # spent
    s2, t2 = re.search(r"/subscribe/manage\?s=(\d+)&amp;t=(\w+)", changed.text).groups()
    cancelled = client.post("/subscribe/manage", data={"s": s2, "t": t2, "action": "cancel"})
    assert "Subscription cancelled" in cancelled.text
    assert subscribers(signup_settings)[0][3] is False  # opted out


def sms_targets(settings, statement_id) -> list[str]:
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(Delivery.channel).where(Delivery.statement_id == statement_id,
                                                             Delivery.channel.in_(("sms", "email")))))


def test_by_default_sms_goes_out_on_open_and_resolve_and_email_on_every_update(database_url):
    settings = make_settings(database_url)
    with transaction(settings.database_url) as s:
        s.add(Subscriber(email="c@example.com", phone="+14155550100", locale="en", components=[]))
    incident = open_incident(settings)
    assert sorted(sms_targets(settings, publish_update(settings, incident))) == ["email", "sms"]
    assert sms_targets(settings, publish_update(settings, incident, status="identified")) == ["email"]
    assert sorted(sms_targets(settings, publish_update(settings, incident, status="resolved"))) == ["email", "sms"]


def test_the_notify_rule_is_a_setting_and_a_bad_one_is_refused(database_url):
    from broadcaster.domain.errors import InvalidInput

    settings = make_settings(database_url, sms_notify_on="all", email_notify_on="resolved")
    with transaction(settings.database_url) as s:
        s.add(Subscriber(email="c@example.com", phone="+14155550100", locale="en", components=[]))
    incident = open_incident(settings)
    assert sms_targets(settings, publish_update(settings, incident)) == ["sms"]
    assert sms_targets(settings, publish_update(settings, incident, status="identified")) == ["sms"]
    with pytest.raises(InvalidInput, match="some of open, update, resolved"):
        make_settings(database_url, sms_notify_on="sometimes")


@pytest.mark.parametrize(("limit", "numbers", "says"), [
    ({"sms_signup_rate_per_client": "2/hour"}, ["+14155550101", "+447911123456", "+33612345678"],
     "from your connection"),
    ({"sms_signup_rate_per_country": "2/hour"}, ["+14155550101", "+14155550102", "+14155550103"],
     "for numbers in this country"),
    ({"sms_signup_rate": "2/hour"}, ["+14155550101", "+447911123456", "+33612345678"], "too many sign-ups just now"),
])
def test_sms_codes_are_counted_per_client_per_country_and_in_all_and_refusals_audited(
        database_url, limit, numbers, says):
    """SMS pumping: a script sending codes to many premium-rate numbers is stopped by the client,
    the country calling code or the overall cap, whichever comes first."""
    settings = make_settings(database_url, status_page_url=SITE, signup_rate_storage=f"memory://?{uuid.uuid4().hex}",
                             secret_key="s" * 40, **limit)
    with TestClient(create_public_app(settings)) as client:
        for number in numbers[:2]:
            assert client.post("/subscribe", data={"phone": number}).status_code == 200
        third = client.post("/subscribe", data={"phone": numbers[2]})
        other_country = client.post("/subscribe", data={"phone": "+61412345678"})
    assert third.status_code == 429 and says in third.text
    assert other_country.status_code == (200 if "country" in says else 429)
    with transaction(settings.database_url) as s:
        refused = list(s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "refused: subscribe")
                                  .order_by(AuditEvent.id)))
    assert refused[0]["reason"].startswith("too many sign-ups") and refused[0]["client"] == "testclient"


@pytest.mark.parametrize("s_value", ["9" * 30, str(2**63), "-1", "0", "1e3", "١٢", " 1"])
@pytest.mark.parametrize("t_value", ["x", "é" * 40, "\u202e" * 10, "a" * 10000])
def test_the_manage_link_with_any_s_and_t_is_a_refusal_never_a_500(client, s_value, t_value):
    for answer in (client.get("/subscribe/manage", params={"s": s_value, "t": t_value}),
                   client.post("/subscribe/manage", data={"s": s_value, "t": t_value, "action": "cancel"})):
        assert answer.status_code == 403 and "not valid" in answer.text


def test_an_existing_subscribers_manage_link_with_a_non_ascii_token_is_refused(signup_settings, client):
    with transaction(signup_settings.database_url) as s:
        s.add(Subscriber(email="m@example.com", locale="en", components=[], manage_nonce="n" * 32))
    answer = client.get("/subscribe/manage", params={"s": "1", "t": "ü" * 40})
    assert answer.status_code == 403 and "use the newest link we sent" in answer.text


def test_with_providers_set_up_the_page_after_signing_up_says_where_to_look(database_url, fake):
    """SendGrid and Twilio (their SDKs, to the fake provider): the confirmation went, so the page says to
    check the inbox, or asks for the texted code; the fake received each."""
    settings = make_settings(database_url, status_page_url=SITE, secret_key="s" * 40,
                             signup_rate_storage=f"memory://?{uuid.uuid4().hex}", **provider_settings(fake.url))
    with TestClient(create_public_app(settings)) as client:
        by_email = client.post("/subscribe", data={"email": "dana@example.com"})
        by_text = client.post("/subscribe", data={"phone": "+1 415 555 0197"})
    assert "Check your email" in by_email.text and "No email was sent" not in by_email.text
    assert "We sent you an email with a link." in by_email.text
    assert "Check your phone" in by_text.text and 'name="code"' in by_text.text
    assert "No text message" not in by_text.text
    assert fake.counts()["email"] == {"dana@example.com": 1} and fake.counts()["sms"] == {"+14155550197": 1}
