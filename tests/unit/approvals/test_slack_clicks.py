"""A Slack click, before anything is looked up: is it signed as Slack signs (`v0`, five minutes either
way), and which button, statement and hash does it name. The signature is computed here by hand, as
Slack documents it, not with the SDK the code uses."""

import hashlib
import hmac
import json
import re
from urllib.parse import urlencode

import pytest

from broadcaster.approvals.by_slack import parsed_click, signature_problem
from broadcaster.config import Settings
from broadcaster.domain.contacts import SLACK_USER_ID_PATTERN
from broadcaster.domain.errors import InvalidInput
from broadcaster.people.users import normalise_slack_id

SECRET = "signing-secret"
SETTINGS = Settings(_env_file=None, slack_signing_secret=SECRET)
NOW = 1_765_000_000
HASH = "ab" * 32


def signed(body: bytes, ts: int, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()


def body_of(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


CLICK = {"type": "block_actions", "user": {"id": "UBOB000001"}, "channel": {"id": "D0DM000001"},
         "actions": [{"action_id": "approve", "value": f"42:{HASH}"}]}


def test_a_request_signed_within_five_minutes_either_way_is_slacks():
    body = body_of(CLICK)
    for skew in (0, -299, 299):
        assert signature_problem(SETTINGS, body, str(NOW + skew), signed(body, NOW + skew), NOW) is None


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_a_request_signed_more_than_five_minutes_away_is_stale(skew):
    body = body_of(CLICK)
    problem = signature_problem(SETTINGS, body, str(NOW + skew), signed(body, NOW + skew), NOW)
    assert problem.startswith("stale:")


@pytest.mark.parametrize("timestamp, signature", [
    (str(NOW), signed(body_of(CLICK), NOW, "another secret")),  # someone else's secret
    (str(NOW), signed(body_of({**CLICK, "user": {"id": "UMALLORY01"}}), NOW)),  # another body's signature
    (str(NOW), None), (str(NOW), "v1=" + "0" * 64), (None, signed(body_of(CLICK), NOW)), ("soon", "v0=00"),
])
def test_anything_else_is_a_bad_signature(timestamp, signature):
    assert signature_problem(SETTINGS, body_of(CLICK), timestamp, signature, NOW).startswith("bad signature")


def test_a_body_that_is_not_utf8_is_a_bad_signature_not_a_crash():
    body = b"payload=\xff\xfe"
    assert signature_problem(SETTINGS, body, str(NOW), signed(body, NOW), NOW).startswith("bad signature")


def test_a_click_names_its_button_statement_hash_and_member():
    click = parsed_click(body_of(CLICK))
    assert (click.action, click.statement_id, click.content_hash, click.slack_user, click.channel) == (
        "approve", 42, HASH, "UBOB000001", "D0DM000001")


@pytest.mark.parametrize("payload, why", [
    ({**CLICK, "type": "view_submission"}, "not a block_actions"),
    ({**CLICK, "actions": [{"action_id": "publish", "value": f"42:{HASH}"}]}, "unknown action"),
    ({**CLICK, "actions": [{"action_id": "approve", "value": "42:abc"}]}, "is not `<statement id>:<content hash>`"),
    ({**CLICK, "actions": [{"action_id": "approve", "value": f"x:{HASH}"}]}, "is not `<statement id>"),
    ({**CLICK, "user": {}}, "no user.id"),
    ({**CLICK, "actions": "approve"}, "unknown action"),
])
def test_anything_else_is_not_a_click_on_an_approval_request(payload, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        parsed_click(body_of(payload))


def test_slack_member_ids_are_checked_and_upper_cased():
    assert normalise_slack_id(" u0123abcd ") == "U0123ABCD"
    assert normalise_slack_id("W0123ABCDEF") == "W0123ABCDEF"  # Enterprise Grid
    for bad in ("U0123", "C0123ABCD", "bob", "U0123ABCD!", "U" + "A" * 20):
        with pytest.raises(InvalidInput, match="is not a Slack member id"):
            normalise_slack_id(bad)
    assert SLACK_USER_ID_PATTERN.startswith("^") and SLACK_USER_ID_PATTERN.endswith("$")
