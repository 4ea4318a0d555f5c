"""Approval from Slack: a click on an approval request's Approve or Reject button (`slack_messages`),
as Slack posts it to `/webhooks/slack/interactions`.

The request counts only if Slack signed it: `v0` HMAC under the app's signing secret over the timestamp
and the body (the official `slack_sdk.signature.SignatureVerifier`), within five minutes either way, and
never twice (each verified request is remembered in the inbound de-duplication table, for good). Bad
signatures are counted per client address and refused past `secret_rate_per_source`. The clicker is
the Broadcaster user mapped to their Slack member id; what they approve is the hash the message showed
(in the button's value), through `decisions.approve` / `reject` themselves: four eyes, roles, a newer
hash refused, sealed, audited, as on the dashboard. Every refusal is audited: before the clicker is
known without an actor (throttled per client), after it by `decisions` with the user as actor.

What the clicker is told is one of `templates/_web/approval/slack/answer.txt`'s outcomes, answered
within Slack's three seconds (the HTTP answer) and posted to them alone (`chat.postEphemeral`, after
the answer, best-effort).
"""

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from ..channels import slack
from ..config import Settings
from ..delivery.receipts import remember_inbound
from ..domain.client_address import limit_key
from ..domain.errors import BroadcasterError, NotAllowed
from ..domain.lifecycle import State
from ..people.auth import actor_of, over_limit
from ..people.users import user_with_slack_id
from ..render.environment import environment
from ..store.models import Statement
from ..usecase import audit_unproven, unit_of_work
from . import decisions
from .slack_messages import APPROVE, FOLDER, REJECT

logger = logging.getLogger("broadcaster.approval")

MOST_AGE_SECONDS = 300  # Slack's own rule: a request signed longer ago (or ahead) than this is refused
MOST_BODY_BYTES = 256_000  # a click on our message is some 30 KB; the app-wide bound is larger
REFUSED = "refused: approve from Slack"
_VALUE = re.compile(r"^([0-9]{1,18}):([0-9a-f]{64})$")


@dataclass(frozen=True)
class Answer:
    """200 with what the clicker is told; or a plain 400/401/413/429 (a request Slack did not sign,
    signed too long ago, seen before, too large or from a client over its limit): nothing changed."""
    status: int
    text: str
    channel: str | None = None  # where the clicker saw the message, to tell them there
    user: str | None = None
    outcome: str = "refused"  # which of answer.txt's outcomes


def take_click(settings: Settings, body: bytes, timestamp: str | None, signature: str | None, client: str,
               now: float | None = None) -> Answer:
    """Verify one interaction request and act on it; never raises for what the request says."""
    if len(body) > MOST_BODY_BYTES:
        return _unsigned(settings, client, 413, f"body: at most {MOST_BODY_BYTES} bytes")
    source = f"from:{limit_key(client)}"  # an IPv6 client by its /64
    if over_limit(settings, settings.secret_rate_per_source, "slack-signature", source, count=False):
        return _unsigned(settings, client, 429, f"too many badly signed requests from {client}: wait")
    problem = signature_problem(settings, body, timestamp, signature, time.time() if now is None else now)
    if problem:
        if problem.startswith("bad"):
            over_limit(settings, settings.secret_rate_per_source, "slack-signature", source)
        return _unsigned(settings, client, 401, problem)
    try:  # only what Slack signed is remembered: a forged request cannot use up a real one
        remember_inbound(settings, "slack:" + hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()[:58])
    except NotAllowed:
        return _unsigned(settings, client, 400, "this Slack request was handled already (a replay)")
    try:
        click = parsed_click(body)
    except ValueError as exc:
        return _unsigned(settings, client, 400, f"not a click on an approval request: {exc}")
    return _act(settings, click, client)


def tell(settings: Settings, answer: Answer) -> None:
    """The answer, posted to the clicker alone where they clicked; best-effort (logged), after Slack has
    its HTTP answer."""
    if not (answer.channel and answer.user and settings.slack_bot_token):
        return
    try:
        slack.tell(settings, answer.channel, answer.user, answer.text)
    except Exception as exc:  # noqa: BLE001 - the click was handled; only the note to the clicker is lost
        logger.warning("Slack answer to %s not posted: %s", answer.user, exc)


def signature_problem(settings: Settings, body: bytes, timestamp: str | None, signature: str | None,
                      now: float) -> str | None:
    """Why this request is not one Slack signed within the window ("stale: ..." or "bad signature: ..."),
    or None when it is."""
    from slack_sdk.signature import SignatureVerifier

    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        return "bad signature: no X-Slack-Request-Timestamp"
    age = int(now) - int(timestamp)
    if abs(age) > MOST_AGE_SECONDS:
        return (f"stale: signed {abs(age)} seconds {'ago' if age > 0 else 'ahead'}, more than {MOST_AGE_SECONDS} "
                "either way (a replay, or a clock far off)")
    if not signature or not signature.startswith("v0=") or len(signature) > 100:
        return "bad signature: no v0 X-Slack-Signature"

    class _At:  # the verifier's clock, pinned to ours (its own window is the same five minutes)
        @staticmethod
        def now() -> float:
            return now

    try:
        valid = SignatureVerifier(settings.slack_signing_secret, clock=_At()).is_valid(body, timestamp, signature)
    except UnicodeDecodeError:
        valid = False
    return None if valid else "bad signature: X-Slack-Signature does not match (check BROADCASTER_SLACK_SIGNING_SECRET)"


@dataclass(frozen=True)
class Click:
    """One click on an approval request's button, as Slack's payload names it."""
    slack_user: str
    action: str
    statement_id: int
    content_hash: str
    channel: str | None


def parsed_click(body: bytes) -> Click:
    """The button clicked, by whom, on which statement and hash; ValueError saying what is missing."""
    form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=5)
    payload = json.loads((form.get("payload") or ["{}"])[0])
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise ValueError("the payload is not a block_actions interaction")
    actions = payload.get("actions") or [{}]
    action = actions[0] if isinstance(actions, list) and isinstance(actions[0], dict) else {}
    if action.get("action_id") not in (APPROVE, REJECT):
        raise ValueError(f"unknown action {str(action.get('action_id'))[:40]!r}")
    found = _VALUE.match(str(action.get("value") or ""))
    if not found:
        raise ValueError("the button's value is not `<statement id>:<content hash>`")
    user = (payload.get("user") or {}).get("id") if isinstance(payload.get("user"), dict) else None
    channel = (payload.get("channel") or {}).get("id") if isinstance(payload.get("channel"), dict) else None
    if not isinstance(user, str) or not user:
        raise ValueError("no user.id")
    return Click(user[:40], action["action_id"], int(found[1]), found[2], str(channel)[:40] if channel else None)


def _act(settings: Settings, click: Click, client: str) -> Answer:
    subject = f"statement:{click.statement_id}"
    with unit_of_work(settings) as s:
        user = user_with_slack_id(s, click.slack_user)
        actor = actor_of(user) if user else None
    if actor is None:
        audit_unproven(settings, REFUSED, subject, {"slack_user": click.slack_user,
                                                    "reason": "no Broadcaster user has this Slack member id"}, client)
        return _answer(settings, click, "unmapped", slack_user=click.slack_user)
    try:
        if click.action == APPROVE:
            view = decisions.approve(settings, actor, click.statement_id, seen_hash=click.content_hash,
                                     comment="approved in Slack")
            return _answer(settings, click, "approved", version=view["version"], short_hash=click.content_hash[:12],
                           approvals=view["approvals"], needed=view["approvals_needed"])
        reason = _render(settings, "reject_reason.txt", name=actor.name)
        view = decisions.reject(settings, actor, click.statement_id, reason)
        return _answer(settings, click, "rejected", version=view["version"])
    except BroadcasterError as exc:  # audited by `decisions` (the actor known): say why, in the reader's terms
        return _explain(settings, click, exc)


def _explain(settings: Settings, click: Click, exc: BroadcasterError) -> Answer:
    with unit_of_work(settings) as s:
        statement = s.get(Statement, click.statement_id)
        if statement is None:
            return _answer(settings, click, "refused", reason=str(exc))
        newer = statement.replaced_by
        hash_moved = statement.content_hash != click.content_hash
        state, version = statement.state, statement.version
    if newer is not None and state != State.PENDING_APPROVAL.value:
        return _answer(settings, click, "replaced", newer=newer, reason=str(exc))
    if state != State.PENDING_APPROVAL.value and not hash_moved:
        return _answer(settings, click, "decided", version=version, state=state, reason=str(exc))
    return _answer(settings, click, "refused", reason=str(exc))


def _answer(settings: Settings, click: Click, outcome: str, **context) -> Answer:
    text = _render(settings, "answer.txt", outcome=outcome, **context)
    return Answer(200, text, click.channel, click.slack_user, outcome)


def _render(settings: Settings, template: str, **context) -> str:
    return environment(settings.templates_dir).get_template(f"{FOLDER}/{template}").render(**context).strip()


def _unsigned(settings: Settings, client: str, status: int, reason: str) -> Answer:
    """A request not proved to be Slack's (or a replay of one): refused, nothing changed, audited
    (throttled per client: anyone can send these in a loop)."""
    audit_unproven(settings, REFUSED, f"slack-request:{client[:60]}", {"reason": reason}, client)
    return Answer(status, reason)
