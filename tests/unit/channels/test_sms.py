"""TwilioSms against a scripted stub of Twilio's REST API, through the real twilio SDK."""

import http.client

import pytest
import smsutil
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from smsutil.codecs import GSM_CHARSET

from broadcaster.channels.base import SendContext, Target, TransportError
from broadcaster.channels.sms import TwilioSms
from broadcaster.config import Settings

from .stub_http import StubServer, closed_port_url

SID = "AC" + "0123456789abcdef" * 2
TEXT = "Example Co: some customers cannot log in. Next update 14:30 UTC."
CONTEXT = SendContext(statement_id=7, incident_id=3, version=2)


@pytest.fixture
def stub(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with StubServer() as server:
        yield server


def sms(base: str, **overrides) -> TwilioSms:
    values = dict(twilio_account_sid=SID, twilio_auth_token="token", twilio_from="+15005550006",
                  twilio_api_base=base + "/")
    return TwilioSms(Settings(_env_file=None, **(values | overrides)))


def created(sid="SM" + "1" * 32):
    return {"sid": sid, "status": "queued", "body": TEXT}


def test_sends_the_approved_text_verbatim_from_our_number(stub):
    stub.reply(201, created())
    [result] = sms(stub.url).notify({"text": TEXT}, [Target(41, "+14155550123")], CONTEXT)

    assert (result.delivery_id, result.status, result.provider_message_id) == (41, "sent", "SM" + "1" * 32)
    request = stub.requests[0]
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json")
    assert request.form() == {"To": ["+14155550123"], "Body": [TEXT], "From": ["+15005550006"]}


def test_every_message_of_a_chunk_carries_the_text_verbatim_whatever_it_contains(stub):
    # The form's values are quoted once per distinct text (a chunk shares one), and sent straight to
    # the API's connection pool: the same bytes as the SDK's own client would send.
    text = "A & B = 100% + ü 😀 / ? #1"
    for _ in range(3):
        stub.reply(201, created())
    sms(stub.url).notify({"text": text}, [Target(i, f"+1415555012{i}") for i in range(3)], CONTEXT)

    assert [r.form() for r in stub.requests] == [
        {"To": [f"+1415555012{i}"], "Body": [text], "From": ["+15005550006"]} for i in range(3)]
    assert {r.path for r in stub.requests} == {f"/2010-04-01/Accounts/{SID}/Messages.json"}


def test_each_message_is_one_write_headers_and_body_together(stub, monkeypatch):
    # urllib3 writes a request's headers, then its body: two TCP segments (two TLS records) a message,
    # and the server woken twice. Our connections write them at once.
    writes = []
    real_send = http.client.HTTPConnection.send
    monkeypatch.setattr(http.client.HTTPConnection, "send", lambda conn, data: (writes.append(bytes(data)),
                                                                                  real_send(conn, data))[1])
    for _ in range(3):
        stub.reply(201, created())
    sms(stub.url).notify({"text": TEXT}, [Target(i, f"+1415555012{i}") for i in range(3)], CONTEXT)

    assert len(writes) == 3
    heads_and_bodies = [w.split(b"\r\n\r\n", 1) for w in writes]
    assert all(head.startswith(b"POST /2010-04-01/") and b"From=%2B15005550006" in body
               for head, body in heads_and_bodies)
    assert [r.form()["To"] for r in stub.requests] == [[f"+1415555012{i}"] for i in range(3)]


def test_messaging_service_picks_the_sender_instead_of_a_from_number(stub):
    stub.reply(201, created())
    transport = sms(stub.url, twilio_messaging_service_sid="MG" + "a" * 32)
    transport.notify({"text": TEXT}, [Target(1, "+14155550123")], CONTEXT)

    form = stub.requests[0].form()
    assert form["MessagingServiceSid"] == ["MG" + "a" * 32]
    assert "From" not in form


def test_status_callback_is_requested_only_when_we_have_a_public_url(stub):
    stub.reply(201, created())
    stub.reply(201, created())
    transport = sms(stub.url)
    transport.notify({"text": TEXT}, [Target(1, "+14155550123")], CONTEXT)
    callback = "https://admin.example.com/callbacks/twilio/1"
    transport.notify({"text": TEXT}, [Target(1, "+14155550123", status_callback_url=callback)], CONTEXT)

    assert "StatusCallback" not in stub.requests[0].form()
    assert stub.requests[1].form()["StatusCallback"] == [callback]


# Twilio's error table, case by case: (code, HTTP status) → what happens to the delivery.
@pytest.mark.parametrize(("code", "status", "meaning"), [
    (21211, 400, "failed"),  # invalid 'To' number
    (21610, 400, "failed, opted out"),  # the recipient replied STOP
    (21611, 429, "retry"),  # the sender's queue is full: later, not failed
    (20003, 401, "paused"),  # authentication failed: a rotated key
])
def test_twilio_error_table(stub, code, status, meaning):
    stub.reply(status, {"code": code, "message": f"error {code}", "status": status})
    with pytest.raises(TransportError) as raised:
        sms(stub.url).notify({"text": TEXT}, [Target(1, "+14155550123")], CONTEXT)

    e = raised.value
    found = ("paused" if e.credentials else "unknown" if e.ambiguous else
             "failed, opted out" if e.permanent and e.opted_out else "failed" if e.permanent else "retry")
    assert (found, e.code) == (meaning, str(code))


@pytest.mark.parametrize("code", [21211, 21610])  # invalid 'To' number; recipient replied STOP
def test_invalid_number_is_a_permanent_failure_with_twilios_code(stub, code):
    stub.reply(400, {"code": code, "message": "The 'To' number is not valid", "status": 400})
    with pytest.raises(TransportError) as raised:
        sms(stub.url).notify({"text": TEXT}, [Target(1, "+1415")], CONTEXT)

    assert raised.value.permanent
    assert raised.value.code == str(code)
    assert "not valid" in str(raised.value)


def test_problem_details_errors_are_classified_like_legacy_ones(stub):
    # RFC 9457 bodies become TwilioServiceException, which is not a TwilioRestException.
    stub.reply(400, {"type": "https://www.twilio.com/docs/errors/21211", "title": "Invalid 'To' Phone Number",
                     "status": 400, "code": 21211})
    with pytest.raises(TransportError) as raised:
        sms(stub.url).notify({"text": TEXT}, [Target(1, "+1415")], CONTEXT)

    assert (raised.value.permanent, raised.value.code) == (True, "21211")


def test_429_honours_retry_after(stub):
    stub.reply(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "7"})
    with pytest.raises(TransportError) as raised:
        sms(stub.url).notify({"text": TEXT}, [Target(1, "+14155550123")], CONTEXT)

    assert not raised.value.permanent
    assert raised.value.retry_after == 7.0


def test_429_without_retry_after_leaves_the_wait_to_our_backoff(stub):
    stub.reply(429, {"code": 20429, "message": "Too Many Requests", "status": 429})
    with pytest.raises(TransportError) as raised:
        sms(stub.url).notify({"text": TEXT}, [Target(1, "+14155550123")], CONTEXT)

    assert (raised.value.permanent, raised.value.retry_after) == (False, None)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_ambiguous_the_message_may_have_gone(stub, status):
    stub.reply(status, "<html>upstream trouble</html>")
    with pytest.raises(TransportError) as raised:
        sms(stub.url).notify({"text": TEXT}, [Target(1, "+14155550123")], CONTEXT)

    assert (raised.value.permanent, raised.value.ambiguous) == (False, True)
    assert raised.value.code == str(status)


def test_no_answer_after_the_request_was_sent_is_ambiguous(stub):
    stub.hang_next = True
    with pytest.raises(TransportError) as raised:
        sms(stub.url, provider_timeout_seconds=0.5).notify({"text": TEXT}, [Target(1, "+14155550123")], CONTEXT)

    assert raised.value.ambiguous and not raised.value.permanent


def test_refused_connection_is_retried_it_proves_nothing_was_sent():
    with pytest.raises(TransportError) as raised:
        sms(closed_port_url()).notify({"text": TEXT}, [Target(1, "+14155550123")], CONTEXT)

    assert not raised.value.permanent and not raised.value.ambiguous


def test_account_is_the_account_sid_so_the_rate_limit_is_shared_per_account(stub):
    transport = sms(stub.url)
    assert (transport.provider, transport.batch_size, transport.account) == ("twilio", 1, SID)


def listing(*messages):
    return {"messages": list(messages), "page": 0, "page_size": 50, "next_page_uri": None,
            "uri": f"/2010-04-01/Accounts/{SID}/Messages.json"}


def message(sid, body, created_at="Mon, 23 Nov 2026 14:06:00 +0000"):
    return {"sid": sid, "body": body, "to": "+14155550123", "date_created": created_at, "date_sent": None}


def test_find_sent_returns_the_sid_of_the_same_text_sent_since_the_claim(stub):
    stub.reply(200, listing(message("SMother", "an older statement"), message("SMsame", TEXT)))
    found = sms(stub.url).find_sent({"text": TEXT}, Target(1, "+14155550123"), "2026-11-23T14:05:00+00:00")

    assert found == "SMsame"
    assert stub.requests[0].query["To"] == ["+14155550123"]


def test_find_sent_ignores_the_same_text_sent_before_the_claim(stub):
    stub.reply(200, listing(message("SMold", TEXT, "Mon, 23 Nov 2026 13:00:00 +0000")))
    found = sms(stub.url).find_sent({"text": TEXT}, Target(1, "+14155550123"), "2026-11-23T14:05:00")

    assert found is None


def test_find_sent_failure_is_transient(stub):
    stub.reply(503, "unavailable")
    with pytest.raises(TransportError) as raised:
        sms(stub.url).find_sent({"text": TEXT}, Target(1, "+14155550123"), "2026-11-23T14:05:00Z")

    assert not raised.value.permanent


def test_a_caller_who_asked_to_hear_back_gets_the_follow_up_text_or_else_the_update():
    from broadcaster.channels.sms import follow_up_words

    stored = {"text": "Example Co - Resolved: Logins work again.", "followup": "Example Co: you asked us..."}
    assert follow_up_words(stored) == {**stored, "text": "Example Co: you asked us..."}
    older = {"text": "Example Co - Resolved: Logins work again."}  # stored before follow-up texts existed
    assert follow_up_words(older) == older


def test_the_follow_up_text_is_held_to_the_segment_limit_too():
    from broadcaster.channels.sms import check_sms

    settings = Settings(_env_file=None)
    checks = {c.name: c for c in check_sms({"text": "Fixed.", "followup": "Fixed: " + "words " * 100}, settings)}
    assert not checks["follow-up segments"].ok and checks["segments"].ok
    assert "follow-up segments" not in {c.name for c in check_sms({"text": "Still down."}, settings)}


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(GSM_CHARSET) + list("ñÑ€[]{}~^|\\🔥ログé\u0301\u00a0–’")), min_size=1))
def test_the_encoding_is_what_smsutil_sends_and_the_culprit_its_first_non_gsm_character(text):
    from broadcaster.channels.sms import sms_encoding

    sent_as_gsm = smsutil.split(text).encoding == "gsm0338"
    culprit = next((ch for ch in text if smsutil.split(ch).encoding != "gsm0338"), None)
    assert sms_encoding(text) == (("GSM-7", None) if sent_as_gsm else ("UCS-2", culprit))


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(GSM_CHARSET) + list("ñ€[]{}~^|\\🔥ログé–’\U0001f600")), max_size=700))
def test_segments_are_counted_as_smsutil_splits(text):
    from broadcaster.channels.sms import sms_segments

    assert sms_segments(text) == len(smsutil.split(text).parts)


def test_segment_boundaries():
    from broadcaster.channels.sms import sms_segments

    assert [sms_segments("a" * n) for n in (0, 160, 161, 306, 307)] == [1, 1, 2, 2, 3]
    assert [sms_segments("ロ" * n) for n in (70, 71, 134, 135)] == [1, 2, 2, 3]
    assert sms_segments("€" * 80) == 1 and sms_segments("€" * 81) == 2  # two septets each
