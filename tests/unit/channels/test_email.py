"""SendGridEmail against a scripted stub of SendGrid's v3 API, through the real sendgrid SDK."""

import time

import pytest

from broadcaster.channels.base import SendContext, Target, TransportError
from broadcaster.channels.email import SendGridEmail
from broadcaster.config import Settings

from .stub_http import Scripted, StubServer, closed_port_url

FIELDS = {"subject": "[Investigating] Some customers cannot log in",
          "body_text": "Since 14:05 UTC about 1 in 5 login attempts fail.",
          "body_html": "<p>Since 14:05 UTC about 1 in 5 login attempts fail.</p>"}
UNSUBSCRIBE = "https://status.example.com/unsubscribe"
TARGETS = [Target(i, address, f"{UNSUBSCRIBE}?d={i}&t=tok")
           for i, address in ((101, "ann@example.com"), (102, "bob@example.org"), (103, "cy@example.net"))]
CONTEXT = SendContext(statement_id=7, incident_id=3, version=2)


@pytest.fixture
def stub(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with StubServer(default=Scripted(202, b"", {"X-Message-Id": "batch-abc123"})) as server:
        yield server


def email(host: str, **overrides) -> SendGridEmail:
    values = dict(sendgrid_api_key="SG.test", sendgrid_host=host + "/", email_from="status@example.com",
                  company_name="Example Co")
    return SendGridEmail(Settings(_env_file=None, **(values | overrides)))


def test_one_request_carries_the_approved_content_to_every_recipient(stub):
    email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    [request] = stub.requests
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.headers["Authorization"] == "Bearer SG.test"
    body = request.json()
    assert body["from"] == {"email": "status@example.com", "name": "Example Co"}
    assert body["subject"] == FIELDS["subject"]
    assert body["content"] == [{"type": "text/plain", "value": FIELDS["body_text"]},
                               {"type": "text/html", "value": FIELDS["body_html"]}]


def test_recipients_never_see_each_other(stub):
    email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    tos = [p["to"] for p in stub.requests[0].json()["personalizations"]]
    assert tos == [[{"email": t.address}] for t in TARGETS]


def test_addresses_are_sent_verbatim_for_sendgrid_to_judge(stub):
    targets = [Target(1, "no-at-sign", UNSUBSCRIBE), Target(2, "Ann <ann@example.com>", UNSUBSCRIBE)]
    email(stub.url).notify(FIELDS, targets, CONTEXT)

    tos = [p["to"] for p in stub.requests[0].json()["personalizations"]]
    assert tos == [[{"email": "no-at-sign"}], [{"email": "Ann <ann@example.com>"}]]


def test_every_recipient_carries_its_delivery_id_in_custom_args(stub):
    email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    by_address = {p["to"][0]["email"]: p["custom_args"] for p in stub.requests[0].json()["personalizations"]}
    assert by_address == {t.address: {"delivery_id": str(t.delivery_id)} for t in TARGETS}


def test_each_recipient_gets_its_own_one_click_unsubscribe_link(stub):
    email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    headers = [p["headers"] for p in stub.requests[0].json()["personalizations"]]
    assert headers == [{"List-Unsubscribe": f"<{UNSUBSCRIBE}?d={t.delivery_id}&t=tok>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"} for t in TARGETS]


def test_a_statement_email_without_an_unsubscribe_link_is_never_sent_and_pauses_the_channel(stub):
    with pytest.raises(TransportError) as raised:  # no BROADCASTER_PUBLIC_URL: no link to put in the header
        email(stub.url).notify(FIELDS, [*TARGETS[:1], Target(104, "dee@example.com")], CONTEXT)

    assert raised.value.credentials and "BROADCASTER_PUBLIC_URL" in str(raised.value)
    assert stub.requests == []


def test_a_message_that_is_no_statement_goes_without_unsubscribe_headers(stub):
    email(stub.url).notify(FIELDS, [Target(0, "ann@example.com")], SendContext(0, 0, 0))  # a sign-up's confirmation

    assert "headers" not in stub.requests[0].json()["personalizations"][0]


def test_accepted_batch_marks_every_recipient_sent_with_the_batch_message_id(stub):
    results = email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    assert [(r.delivery_id, r.status, r.provider_message_id) for r in results] == [
        (101, "sent", "batch-abc123"), (102, "sent", "batch-abc123"), (103, "sent", "batch-abc123")]


def test_429_honours_retry_after(stub):
    stub.reply(429, {"errors": [{"message": "too many requests"}]}, {"Retry-After": "12"})
    with pytest.raises(TransportError) as raised:
        email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    assert (raised.value.permanent, raised.value.retry_after) == (False, 12.0)


def test_429_without_retry_after_waits_until_the_rate_limit_resets(stub):
    stub.reply(429, {"errors": [{"message": "too many requests"}]}, {"X-RateLimit-Reset": str(int(time.time()) + 30)})
    with pytest.raises(TransportError) as raised:
        email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    assert not raised.value.permanent
    assert 25 <= raised.value.retry_after <= 31


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_ambiguous_never_retried_blindly(stub, status):
    stub.reply(status, "bad gateway")
    with pytest.raises(TransportError) as raised:
        email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    assert (raised.value.permanent, raised.value.ambiguous) == (False, True)
    assert raised.value.code == str(status)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_pause_the_channel_instead_of_failing(stub, status):
    stub.reply(status, {"errors": [{"message": "The provided authorization grant is invalid", "field": None}]})
    with pytest.raises(TransportError) as raised:
        email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    assert (raised.value.credentials, raised.value.permanent, raised.value.ambiguous) == (True, False, False)
    assert "authorization grant is invalid" in str(raised.value)


def test_one_bad_address_in_a_batch_fails_alone_and_the_others_go(stub):
    bad = {"errors": [{"message": "Does not contain a valid address.", "field": "personalizations.0.to.0.email"}]}
    targets = [Target(i, f"customer{i}@example.com", UNSUBSCRIBE) for i in range(1, 6)]
    # 5 → [1,2] ok, [3,4,5] refused → [3] refused alone, [4,5] ok
    for status, body in ((400, bad), (202, ""), (400, bad), (400, bad), (202, "")):
        stub.reply(status, body, {"X-Message-Id": "batch"} if status == 202 else None)

    results = email(stub.url).notify(FIELDS, targets, CONTEXT)

    assert [(r.delivery_id, r.status) for r in results] == [(1, "sent"), (2, "sent"), (3, "error"), (4, "sent"),
                                                            (5, "sent")]
    failed = results[2].error
    assert failed.permanent and failed.code == "400" and "Does not contain a valid address" in str(failed)
    assert [len(r.json()["personalizations"]) for r in stub.requests] == [5, 2, 3, 1, 2]


def test_a_batch_refused_for_its_content_is_not_split(stub):
    stub.reply(400, {"errors": [{"message": "The subject is required.", "field": "subject"}]})
    with pytest.raises(TransportError) as raised:
        email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    assert raised.value.permanent and len(stub.requests) == 1


def test_no_answer_after_the_batch_was_sent_is_ambiguous_and_names_the_batch(stub):
    stub.reply(202, "", {"X-Message-Id": "x"})
    transport = email(stub.url, provider_timeout_seconds=0.5)
    stub.hang_next = True
    with pytest.raises(TransportError) as raised:
        transport.notify(FIELDS, TARGETS, CONTEXT)

    assert raised.value.ambiguous and not raised.value.permanent
    assert f"delivery ids {TARGETS[0].delivery_id}..{TARGETS[-1].delivery_id}" in str(raised.value)


@pytest.mark.parametrize("status", [400, 413])
def test_rejected_request_is_permanent_and_says_why(stub, status):
    stub.reply(status, {"errors": [{"message": "The from address does not match a verified Sender Identity.",
                                    "field": "from"}, {"message": "second"}]})
    with pytest.raises(TransportError) as raised:
        email(stub.url).notify(FIELDS, TARGETS, CONTEXT)

    assert (raised.value.permanent, raised.value.code) == (True, str(status))
    assert "does not match a verified Sender Identity" in str(raised.value)
    assert "second" not in str(raised.value)


def test_refused_connection_is_retried():
    with pytest.raises(TransportError) as raised:
        email(closed_port_url()).notify(FIELDS, TARGETS, CONTEXT)

    assert not raised.value.permanent


def test_batch_size_follows_settings_but_never_exceeds_sendgrids_limit(stub):
    assert email(stub.url, email_batch_size=250).batch_size == 250
    assert email(stub.url, email_batch_size=5000).batch_size == 1000


def test_the_body_is_the_one_the_sdks_helper_objects_build():
    # The recipients' parts are written as dicts (the helper's objects cost as much as the request):
    # the JSON must be the one the helper's Personalization, To, CustomArg and Header make.
    from sendgrid.helpers.mail import CustomArg, From, Header, Mail, Personalization, To

    from broadcaster.channels.email import mail_body, personalization

    targets = [*TARGETS, Target(104, "Dee <dee@example.com>", None)]
    sender = From("status@example.com", "Example Co")
    mail = Mail(from_email=sender, subject=FIELDS["subject"], plain_text_content=FIELDS["body_text"],
                html_content=FIELDS["body_html"])
    for i, target in enumerate(targets):
        to = To()
        to.email = target.address
        p = Personalization()
        p.add_to(to)
        p.add_custom_arg(CustomArg("delivery_id", str(target.delivery_id)))
        if target.unsubscribe_url:
            p.add_header(Header("List-Unsubscribe", f"<{target.unsubscribe_url}>"))
            p.add_header(Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        mail.add_personalization(p, index=i)

    ours = {**mail_body(sender, FIELDS), "personalizations": [personalization(t) for t in targets]}
    assert ours == mail.get()
