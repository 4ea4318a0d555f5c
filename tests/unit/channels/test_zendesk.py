"""The Zendesk transport through httpx against a local fake of the macro endpoints: the macro it creates
with the agent notes and the content hash, the same macro updated and then retired, a deleted macro made
anew, a resend that finds the macro instead of making a second, and what each error answer means."""

import json

import pytest

from broadcaster import channels
from broadcaster.channels.base import SendContext, Target, TransportError
from broadcaster.channels.zendesk import ZendeskMacros, marker, notes_html
from broadcaster.config import Settings
from tests.fakes.zendesk import SAVED_THEN_DROPPED, FakeZendesk

ANSWERS = [{"question": "Is my <data> safe?", "answer": "Yes: only signing in is affected."}]
FIELDS = {"summary": "Investigating: Some customers cannot log in.\nAbout 1 in 5 logins fail.",
          "say": "Some customers cannot log in. We are investigating.",
          "workaround": "Use the mobile app.", "avoid": "Do not promise a time for the fix.",
          "next_update": "Next update by 15:30 UTC.", "answers": json.dumps(ANSWERS)}
HASH_1, HASH_2, HASH_3 = "a1" * 32, "b2" * 32, "c3" * 32


def version(n: int, content_hash: str, reply_to: str | None = None, closes: bool = False) -> SendContext:
    return SendContext(statement_id=10 + n, incident_id=4, version=n, content_hash=content_hash, reply_to=reply_to,
                       closes=closes)


@pytest.fixture
def zendesk():
    with FakeZendesk() as fake:
        yield fake


def macros(zendesk, token: str | None = None) -> ZendeskMacros:
    values = {**zendesk.settings(), **({"zendesk_api_token": token} if token else {})}
    return ZendeskMacros(Settings(_env_file=None, provider_timeout_seconds=5, **values))


def comment(macro: dict) -> str:
    return next(a["value"] for a in macro["actions"] if a["field"] == "comment_value_html")


def test_the_first_version_creates_a_shared_macro_with_the_agent_notes_and_the_hash(zendesk):
    (result,) = macros(zendesk).notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    (macro,) = zendesk.macros.values()
    assert result.status == "sent" and result.provider_message_id == str(macro["id"])
    assert result.detail == f"created macro {macro['id']}"
    assert macro["title"] == f"Investigating: Some customers cannot log in. {marker(4)}"
    assert macro["active"] is True and macro["restriction"] is None
    assert macro["description"] == f"Broadcaster incident 4 v1 · sha256 {HASH_1}"
    html = comment(macro)
    for name in ("say", "workaround", "avoid", "next_update"):
        assert FIELDS[name] in html, name
    assert "Investigating: Some customers cannot log in.<br>About 1 in 5 logins fail." in html
    assert "<strong>Is my &lt;data&gt; safe?</strong>" in html  # the author's words shown as typed
    assert {"field": "comment_mode_is_public", "value": "false"} in macro["actions"]  # an internal note


def test_later_versions_update_the_same_macro_and_the_resolving_one_retires_it(zendesk):
    (first,) = macros(zendesk).notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    later = {**FIELDS, "say": "We have found the cause."}
    (second,) = macros(zendesk).notify(later, [Target(2, "zendesk")], version(2, HASH_2, first.provider_message_id))
    (third,) = macros(zendesk).notify(later, [Target(3, "zendesk")],
                                      version(3, HASH_3, second.provider_message_id, closes=True))
    (macro,) = zendesk.macros.values()
    assert first.provider_message_id == second.provider_message_id == third.provider_message_id == str(macro["id"])
    assert [method for method, _, _ in zendesk.writes] == ["POST", "PUT", "PUT"]
    assert "We have found the cause." in comment(macro) and HASH_3 in macro["description"]
    assert macro["active"] is False  # retired: kept, with its history, out of the agents' list
    assert second.detail.startswith("updated") and third.detail.startswith("retired")


def test_a_macro_deleted_in_zendesk_is_made_anew_and_the_delivery_says_so(zendesk):
    (first,) = macros(zendesk).notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    zendesk.macros.clear()
    (second,) = macros(zendesk).notify(FIELDS, [Target(2, "zendesk")], version(2, HASH_2, first.provider_message_id))
    (macro,) = zendesk.macros.values()
    assert second.provider_message_id == str(macro["id"]) != first.provider_message_id
    assert f"macro {first.provider_message_id} was deleted in Zendesk" in second.detail


def test_a_create_whose_answer_never_came_is_unknown_and_found_before_any_resend(zendesk):
    zendesk.fail_next(SAVED_THEN_DROPPED, write=True)
    with pytest.raises(TransportError) as caught:
        macros(zendesk).notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    assert caught.value.ambiguous, vars(caught.value)  # saved in Zendesk, and we cannot know it
    (saved,) = zendesk.macros.values()
    # Reconciliation finds it by its title's marker, holding this version's hash ...
    assert macros(zendesk).holding(4, HASH_1, recorded=[]) == str(saved["id"])
    assert macros(zendesk).holding(4, HASH_2, recorded=[]) is None  # ... and no other version's
    # ... and a resend with no id to update looks the macro up instead of making a second one.
    (again,) = macros(zendesk).notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    assert len(zendesk.macros) == 1 and again.provider_message_id == str(saved["id"])


def test_reconciliation_asks_by_the_recorded_id_when_the_title_was_changed_in_zendesk(zendesk):
    (first,) = macros(zendesk).notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    zendesk.macros[int(first.provider_message_id)]["title"] = "Renamed by an admin"
    assert macros(zendesk).holding(4, HASH_1, recorded=[]) is None
    assert macros(zendesk).holding(4, HASH_1, recorded=["999", first.provider_message_id]) == first.provider_message_id


@pytest.mark.parametrize(("status", "headers", "meaning"), [
    (401, {}, "credentials"),
    (403, {}, "credentials"),
    (422, {}, "permanent"),
    (429, {"Retry-After": "7"}, "retry"),
    (503, {}, "ambiguous"),
])
def test_each_error_answer_means_what_the_table_says(zendesk, status, headers, meaning):
    (first,) = macros(zendesk).notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    zendesk.fail_next(status, headers=headers)
    with pytest.raises(TransportError) as caught:
        macros(zendesk).notify(FIELDS, [Target(2, "zendesk")], version(2, HASH_2, first.provider_message_id))
    error = caught.value
    assert error.code == str(status)
    assert {"credentials": error.credentials, "permanent": error.permanent and not error.credentials,
            "retry": not error.permanent and not error.ambiguous and error.retry_after == 7.0,
            "ambiguous": error.ambiguous}[meaning], vars(error)
    assert HASH_1 in zendesk.macros[int(first.provider_message_id)]["description"]  # nothing changed


def test_a_lookup_that_fails_is_retried_never_unknown_and_a_wrong_token_pauses(zendesk):
    zendesk.fail_next(502)  # the title search before the first create: nothing was written
    with pytest.raises(TransportError) as caught:
        macros(zendesk).notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    assert not caught.value.ambiguous and not caught.value.permanent and zendesk.macros == {}
    with pytest.raises(TransportError) as caught:
        macros(zendesk, token="wrong").notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    assert caught.value.credentials and caught.value.code == "401"
    closed = ZendeskMacros(Settings(_env_file=None, zendesk_api_url="http://127.0.0.1:9", zendesk_email="a@b.c",
                                    zendesk_api_token="t", provider_timeout_seconds=2))
    with pytest.raises(TransportError) as caught:
        closed.notify(FIELDS, [Target(1, "zendesk")], version(1, HASH_1))
    assert not caught.value.ambiguous and not caught.value.permanent


def test_the_channel_sends_the_agent_rendition_and_is_simulated_until_configured(zendesk):
    ch = channels.channel("zendesk")
    assert ch.rendition == "agent" and ch.is_live and "zendesk" not in channels.rendered_names()
    assert not ch.configured(Settings(_env_file=None))
    assert channels.transport_for("zendesk", Settings(_env_file=None)).provider == "log"
    configured = Settings(_env_file=None, **zendesk.settings())
    assert channels.transport_for("zendesk", configured).provider == "zendesk"
    assert channels.rate_for("zendesk", configured) == "100/second"


def test_the_notes_keep_the_desk_order_and_skip_empty_fields():
    html = notes_html({"answers": "[]", "next_update": "Next update by 16:00.", "say": "Tell them this.",
                       "workaround": ""})
    assert html == "<p>Tell them this.</p>\n<p>Next update by 16:00.</p>"
