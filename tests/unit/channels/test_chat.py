"""The Slack and Teams transports through the official slack_sdk and httpx against a local fake of the
Slack Web API and a Teams Workflows webhook: what they post, threading, and what each error means."""

import json

import pytest

from broadcaster.channels.base import SendContext, Target, TransportError
from broadcaster.channels.slack import SlackPosts, check_slack
from broadcaster.channels.teams import TeamsWebhook, check_teams
from broadcaster.config import Settings
from tests.fakes.chat import FakeChat

BLOCKS = [{"type": "header", "text": {"type": "plain_text", "text": "Login failures · v1"}},
          {"type": "section", "text": {"type": "plain_text", "text": "Investigating: <b>Login</b> & more"}}]
FIELDS = {"text": "Investigating: Some customers cannot log in.", "blocks": json.dumps(BLOCKS)}
CARD = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "Login failures · v1"}]}
CONTEXT = SendContext(statement_id=7, incident_id=3, version=1, content_hash="ab" * 32)


@pytest.fixture
def chat():
    with FakeChat() as fake:
        yield fake


def slack(chat, token="xoxb-test") -> SlackPosts:
    return SlackPosts(Settings(_env_file=None, slack_bot_token=token, slack_channel="C0INCIDENT",
                               slack_api_url=chat.slack_url, provider_timeout_seconds=5))


def test_a_post_carries_the_blocks_and_the_next_version_replies_in_its_thread(chat):
    (first,) = slack(chat).notify(FIELDS, [Target(1, "slack")], CONTEXT)
    assert first.status == "sent" and first.provider_message_id == chat.slack_posts[0]["ts"]
    assert chat.slack_posts[0]["blocks"] == BLOCKS and chat.slack_posts[0]["channel"] == "C0INCIDENT"
    assert chat.slack_posts[0]["text"] == FIELDS["text"] and "thread_ts" not in chat.slack_posts[0]
    later = SendContext(statement_id=8, incident_id=3, version=2, reply_to=first.provider_message_id)
    (second,) = slack(chat).notify(FIELDS, [Target(2, "slack")], later)
    assert chat.slack_posts[1]["thread_ts"] == chat.slack_posts[0]["ts"]
    assert second.provider_message_id == first.provider_message_id  # the thread's root, for the version after


@pytest.mark.parametrize(("answer", "meaning"), [
    ((200, {"ok": False, "error": "invalid_auth"}, {}), "credentials"),
    ((200, {"ok": False, "error": "channel_not_found"}, {}), "permanent"),
    ((200, {"ok": False, "error": "msg_too_long"}, {}), "permanent"),
    ((429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}), "retry"),
    ((500, {"ok": False, "error": "fatal_error"}, {}), "ambiguous"),
])
def test_each_slack_error_means_what_the_table_says(chat, answer, meaning):
    chat.slack_faults.append(answer)
    with pytest.raises(TransportError) as caught:
        slack(chat).notify(FIELDS, [Target(1, "slack")], CONTEXT)
    error = caught.value
    assert {"credentials": error.credentials, "permanent": error.permanent and not error.credentials,
            "retry": not error.permanent and not error.ambiguous and error.retry_after == 7.0,
            "ambiguous": error.ambiguous}[meaning], vars(error)
    assert chat.slack_posts == []


def test_a_refused_connection_is_retried_and_a_wrong_token_pauses(chat):
    with pytest.raises(TransportError) as caught:
        slack(chat, token="xoxb-wrong").notify(FIELDS, [Target(1, "slack")], CONTEXT)
    assert caught.value.credentials and caught.value.code == "invalid_auth"
    closed = SlackPosts(Settings(_env_file=None, slack_bot_token="x", slack_channel="C", provider_timeout_seconds=2,
                                 slack_api_url="http://127.0.0.1:9/api/"))
    with pytest.raises(TransportError) as caught:
        closed.notify(FIELDS, [Target(1, "slack")], CONTEXT)
    assert not caught.value.ambiguous and not caught.value.permanent


def teams(chat) -> TeamsWebhook:
    return TeamsWebhook(Settings(_env_file=None, teams_webhook_url=chat.teams_url, provider_timeout_seconds=5))


def test_teams_gets_the_adaptive_card_as_a_message(chat):
    (result,) = teams(chat).notify({"card": json.dumps(CARD)}, [Target(1, "teams")], CONTEXT)
    (message,) = chat.teams_cards
    assert message["type"] == "message"
    assert message["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert message["attachments"][0]["content"] == CARD
    assert result.status == "sent" and result.provider_message_id == "run-1"


@pytest.mark.parametrize(("status", "meaning"), [(404, "credentials"), (401, "credentials"), (400, "permanent"),
                                                 (429, "retry"), (502, "ambiguous")])
def test_each_teams_answer_means_what_the_table_says(chat, status, meaning):
    chat.teams_faults.append(status)
    with pytest.raises(TransportError) as caught:
        teams(chat).notify({"card": json.dumps(CARD)}, [Target(1, "teams")], CONTEXT)
    error = caught.value
    assert {"credentials": error.credentials, "permanent": error.permanent,
            "retry": not (error.permanent or error.ambiguous or error.credentials),
            "ambiguous": error.ambiguous}[meaning]


def test_limits_say_what_slack_and_teams_refuse():
    long = [{"type": "section", "text": {"type": "plain_text", "text": "x" * 3001}}] * 51
    checks = {c.name: c for c in check_slack({"text": "t", "blocks": json.dumps(long)}, Settings(_env_file=None))}
    assert not checks["blocks"].ok and not checks["section"].ok
    (broken,) = check_slack({"text": "t", "blocks": "[not json"}, Settings(_env_file=None))
    assert broken.name == "invalid blocks" and not broken.ok
    (size,) = check_teams({"card": json.dumps({"text": "x" * 30_000})}, Settings(_env_file=None))
    assert size.name == "size" and not size.ok
