"""Who a statement would reach if it went out now: each channel, and for the channels sent to
subscribers how many of them (opted in, with that address, wanting one of its components) and
whether the notify rules send them this update at all. What an approver weighs before pressing."""

import json

from sqlalchemy import Text, cast, func, select

from .. import channels
from ..config import Settings
from ..store.models import Statement, Subscriber
from ..usecase import get, unit_of_work
from .notify_rules import event_of, notifies


def reach(settings: Settings, statement_id: int) -> dict:
    """{"event": open|update|resolved, "channels": {name: {"live": bool, "notified": bool,
    "recipients": n or None}}} for the channels this statement has words for."""
    with unit_of_work(settings) as s:
        statement = get(s, Statement, statement_id)
        event = event_of(s, statement)  # once, not again for each channel's rule
        found = {}
        for ch in channels.all_channels():
            # On demand: nothing at publish. Named lists (stakeholder audiences) are not subscribers: their
            # people are on the Stakeholders page.
            if ch.kind in (channels.Kind.ON_DEMAND, channels.Kind.LIST):
                continue
            notified = notifies(settings, s, statement, ch.name, event)
            recipients = _subscribers(s, ch.address, statement.components) if ch.address else None
            found[ch.name] = {"live": ch.is_live, "notified": notified, "recipients": recipients,
                              "simulated": channels.is_simulated(ch.name, settings)}
        return {"event": event, "channels": found}


def _subscribers(s, address: str, components: list[str]) -> int:
    """Opted-in subscribers with this address who want these components (none named: all of them)."""
    column = getattr(Subscriber, address)
    where = (column.is_not(None), Subscriber.opted_out_at.is_(None))
    if not components:
        return s.scalar(select(func.count()).select_from(Subscriber).where(*where)) or 0
    # One count per distinct list of components (few, however many subscribers), compared as text:
    # PostgreSQL's json type cannot be grouped by as it is.
    wanted, chosen = set(components), cast(Subscriber.components, Text)
    counted = s.execute(select(chosen, func.count()).where(*where).group_by(chosen)).all()
    return sum(n for text, n in counted if not (names := json.loads(text) if text else None) or wanted & set(names))
