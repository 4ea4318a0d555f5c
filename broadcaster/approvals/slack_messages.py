"""Approval requests in Slack: on submit, a DM to every approver with a Slack member id, with what changed
since the live version, the content hash it asks about and Approve / Reject buttons; after any decision
(from Slack, the dashboard, a link, a code, the CLI) those messages say who decided and when, and once the
version is withdrawn or replaced by an edit, that there is nothing left to approve in them.

The DM is a message of kind APPROVAL_REQUEST on the `slack` channel: logged with its hash, retried and
reconciled like the emailed link and the texted code beside it, and withdrawn with them when the statement
no longer waits. Its buttons carry no secret: a click counts only in a request Slack signed, from the
Slack member mapped to an approver (`by_slack`), and approves only the hash the message showed.

Updating the messages once decided is best-effort, after the decision committed, in a thread of its own:
neither the approval nor Slack's three-second answer waits on Slack, and a failure is logged, never raised.
Not through the engine: it edits a message already sent and is harmless to repeat or to miss (a stale
button is refused with the reason), where the engine's outbox is for words that must reach someone.
"""

import json
import logging
import threading
from datetime import datetime

from sqlalchemy import event, select

from .. import channels
from ..channels import slack
from ..config import Settings
from ..delivery.messages import add_message
from ..domain.delivery_status import DeliveryStatus
from ..domain.lifecycle import State
from ..domain.message_secrets import MessageKind
from ..domain.word_diff import changed, counts, word_diff
from ..render.environment import environment
from ..store.models import Delivery, Message, Statement, User
from ..usecase import get, unit_of_work

logger = logging.getLogger("broadcaster.approval")

FOLDER = "_web/approval/slack"
APPROVE, REJECT = "approve", "reject"  # the buttons' action ids
DIFF_FIELDS = ("headline", "body", "workaround", "resolution")
MOVES = ("status", "impact")  # shown as before → after
SEEN = (State.PUBLISHED.value, State.SUPERSEDED.value)  # versions customers have read
MOST_DIFF_CHARS = 2800  # a Block Kit section holds 3,000


def slack_approvals_on(settings: Settings) -> bool:
    """Approval requests go to Slack when the `slack` channel has its bot (token and channel) and the
    signing secret that verifies the clicks is set."""
    return bool(channels.channel("slack").configured(settings) and settings.slack_signing_secret)


def button_value(statement_id: int, content_hash: str) -> str:
    return f"{statement_id}:{content_hash}"


def ask(s, settings: Settings, statement: Statement, user: User, expires: datetime) -> Delivery:
    """The DM asking `user` to approve `statement`: a pending delivery in the caller's transaction."""
    fields = _words(settings, statement, decision=None)
    (delivery,) = add_message(s, settings, MessageKind.APPROVAL_REQUEST, f"statement:{statement.id}", "slack",
                              fields, [user.slack_user_id], expires)
    return delivery


def show_decision(settings: Settings, statement_id: int, needed: int) -> threading.Thread | None:
    """After an approval or rejection committed: every Slack request for this statement that went out
    is updated to say who decided and when (its buttons gone once the statement no longer waits).
    `needed`: how many approvals it needs. Returns the thread doing it (None: nothing to update), for
    tests to join."""
    if not settings.slack_bot_token:
        return None
    try:
        with unit_of_work(settings) as s:
            refs = list(s.scalars(
                select(Delivery.provider_message_id).join(Message, Message.id == Delivery.message_id).where(
                    Message.kind == MessageKind.APPROVAL_REQUEST.value, Message.subject == f"statement:{statement_id}",
                    Delivery.channel == "slack", Delivery.status == DeliveryStatus.SENT,
                    Delivery.provider == slack.SlackPosts.provider)))
            if not refs:
                return None
            statement = get(s, Statement, statement_id)
            fields = _words(settings, statement, decision=_decision(statement, needed))
    except Exception:  # an update of a message is never worth failing the decision that made it
        logger.exception("Slack approval messages of statement %s not updated", statement_id)
        return None
    thread = threading.Thread(target=_update_all, args=(settings, refs, fields), name="slack-approval-update")
    thread.start()
    return thread


def show_withdrawn_once_committed(s, settings: Settings, withdrawn: list[dict]) -> None:
    """Versions were withdrawn in `s` (by hand, or replaced by a newer version): once that commits, their
    Slack requests lose the buttons and say so, or an approver would go on reading "waiting for your
    approval" above words that will never go out. `withdrawn`: the versions as `{"id", "was"}` (a draft
    asked no one). Nothing happens if `s` rolls back."""
    asked = [version["id"] for version in withdrawn
             if version["was"] in (State.PENDING_APPROVAL.value, State.APPROVED.value)]
    if asked:
        event.listen(s, "after_commit", lambda _: _show_all(settings, asked), once=True)


def _show_all(settings: Settings, statement_ids: list[int]) -> None:
    for statement_id in statement_ids:
        try:
            show_decision(settings, statement_id, needed=0)  # `needed` is only shown while a version waits
        except Exception:  # noqa: BLE001 - the withdrawal committed already; an update never undoes it
            logger.exception("Slack approval messages of statement %s not updated", statement_id)


def _update_all(settings: Settings, refs: list[str], fields: dict[str, str]) -> None:
    blocks = json.loads(fields["blocks"])
    for ref in refs:
        try:
            slack.update(settings, ref, fields["text"], blocks)
        except Exception as exc:  # noqa: BLE001 - logged: the decision stands whatever Slack says
            logger.warning("Slack approval message %s not updated: %s", ref, exc)


def _decision(statement: Statement, needed: int) -> dict:
    """Who decided so far, for the words: each approval of these words and any rejection, oldest first."""
    decided = [{"name": a.approver.name, "decision": a.decision, "at": a.created_at, "comment": a.comment}
               for a in sorted(statement.approvals, key=lambda a: a.id)
               if a.decision == REJECT or a.content_hash == statement.content_hash]
    return {"state": statement.state, "waiting": statement.state == State.PENDING_APPROVAL.value,
            "by": decided, "approvals": sum(d["decision"] == APPROVE for d in decided),
            "needed": needed, "replaced_by": statement.replaced_by}


def _words(settings: Settings, statement: Statement, decision: dict | None) -> dict[str, str]:
    env = environment(settings.templates_dir)
    live = _live_before(statement)
    context = {
        "company_name": settings.company_name, "incident_title": statement.incident.title,
        "version": statement.version, "headline": statement.headline, "short_hash": statement.content_hash[:12],
        "value": button_value(statement.id, statement.content_hash), "live_version": live.version if live else None,
        "changes": _changes(live, statement), "channels": sorted(r.channel for r in statement.renditions),
        "decision": decision, "tz": settings.timezone, "approve": APPROVE, "reject": REJECT,
    }
    return {"text": env.get_template(f"{FOLDER}/text.txt").render(**context).strip(),
            "blocks": json.dumps(json.loads(env.get_template(f"{FOLDER}/blocks.json").render(**context)))}


def _live_before(statement: Statement) -> Statement | None:
    """The last version customers read before this one (as the dashboard's changes page has it)."""
    seen = [st for st in statement.incident.statements if st.state in SEEN and st.version < statement.version]
    return max(seen, key=lambda st: st.version) if seen else None


def _changes(live: Statement | None, statement: Statement) -> list[dict]:
    """What changed since `live`: the status and impact as before → after, each changed text field word by
    word in git's `[-out-]{+in+}` form (plain text: Slack shows the author's words as typed) with the words
    put in and taken out; clipped to fit a section. A first version: its text fields as they are."""
    found = []
    for name in MOVES if live is not None else ():
        if getattr(live, name) != getattr(statement, name):
            found.append({"field": name, "before": getattr(live, name), "after": getattr(statement, name)})
    for name in DIFF_FIELDS:
        now = getattr(statement, name) or ""
        if live is None:
            if now and name != "headline":  # the headline is shown above
                found.append({"field": name, "text": _clipped(now)})
            continue
        pieces = word_diff(getattr(live, name) or "", now)
        if changed(pieces):
            added, removed = counts(pieces)
            marked = "".join(p.text if p.op == "same" else f"[-{p.text}-]" if p.op == "out" else f"{{+{p.text}+}}"
                             for p in pieces)
            found.append({"field": name, "diff": _clipped(marked), "added": added, "removed": removed})
    return found


def _clipped(text: str) -> str:
    return text if len(text) <= MOST_DIFF_CHARS else text[:MOST_DIFF_CHARS - 1] + "…"
