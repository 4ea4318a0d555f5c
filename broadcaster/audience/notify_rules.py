"""Which updates each recipient channel gets (BROADCASTER_<CHANNEL>_NOTIFY_ON): by default SMS
only when an incident opens and when it resolves, email and webhooks on every update. A
maintenance opens when it is scheduled and resolves when it is completed."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import channels
from ..config import Settings
from ..domain.component_states import FINAL_STATUSES
from ..domain.lifecycle import State
from ..store.models import Statement


def event_of(s: Session, statement: Statement) -> str:
    """open (the incident's first published statement), resolved, or update."""
    if statement.status in FINAL_STATUSES:
        return "resolved"
    earlier = s.scalar(select(func.count()).where(
        Statement.incident_id == statement.incident_id, Statement.id != statement.id,
        Statement.state.in_((State.PUBLISHED.value, State.SUPERSEDED.value))))
    return "update" if earlier else "open"


def left_out(settings: Settings, channel: str, event: str) -> dict:
    """Why this channel's recipients are not sent a statement of this `event`: its rule, in the shape
    templates/_web/dashboard/_left_out.txt words (the Consistency page and `broadcaster publish`)."""
    return {"why": "notify rules", "rule": getattr(settings, f"{channel}_notify_on", "all"), "event": event}


def notifies(settings: Settings, s: Session, statement: Statement, channel: str, event: str | None = None) -> bool:
    """Whether this channel's recipients get this statement (live surfaces always do). `event`: the
    statement's `event_of`, when the caller has it already (asking for several channels)."""
    if channels.channel(channel).is_live:
        return True
    rule = set(getattr(settings, f"{channel}_notify_on", "all").split(","))
    return "all" in rule or (event or event_of(s, statement)) in rule
