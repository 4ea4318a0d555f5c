"""The incident board: what the dashboard's home page shows while incidents run. Every open incident
with its live version and what each channel shows, the next update promised and how long is left
(overdue past it), the versions being written, the approvals waiting and whom they asked; every
channel paused or failing, and the fan-outs still going out. One read, assembled for a page that
refreshes itself every few seconds.
"""

from datetime import datetime

from sqlalchemy import func, select

from .. import channels as registry
from ..config import Settings
from ..delivery.progress import progress
from ..domain.component_states import FINAL_STATUSES
from ..domain.delivery_status import FAILED_FOR_GOOD, IN_FLIGHT, PREPARING, UNSENT
from ..domain.lifecycle import State
from ..store.access_models import ApprovalRequest
from ..store.models import Delivery, Incident, Statement, utcnow
from ..store.row_views import statement_view
from ..usecase import live_statement, unit_of_work
from .consistency import consistency_report
from .reminders import BEING_WRITTEN, update_due

BUSY = {PREPARING, *UNSENT, *IN_FLIGHT}


def board(settings: Settings, now: datetime | None = None) -> dict:
    now = now or utcnow()
    with unit_of_work(settings) as s:
        # Open incidents only, chosen in SQL: the board must not read a year of resolved ones each refresh.
        open_ids = list(s.scalars(select(Incident.id).where(Incident.status.not_in(FINAL_STATUSES))))
        failing = _failing(s)
    audit = consistency_report(settings, open_ids)
    shown = {i["incident_id"]: i for i in audit["incidents"]}
    with unit_of_work(settings) as s:
        open_ones = s.scalars(select(Incident).where(Incident.id.in_(open_ids)).order_by(Incident.id.desc()))
        incidents = [_incident(s, settings, incident, shown.get(incident.id), now) for incident in open_ones]
    sending = [{"incident_id": i["id"], "title": i["title"], **i["live"]["progress"]}
               for i in incidents if i["live"] and i["live"]["progress"]["percent"] < 100]
    return {"now": now.isoformat(), "incidents": incidents, "paused": audit["paused"], "failing": failing,
            "sending": sending, "waiting": [v for i in incidents for v in i["writing"] if v["state"] ==
                                            "pending_approval"]}


def _failing(s) -> dict[str, int]:
    """{channel: deliveries failed for good} of every incident's live version, resolved ones too (a
    resolution that did not reach people is still news): one query, not an audit of every incident."""
    failed = (select(Delivery.channel, func.count()).join(Statement, Statement.id == Delivery.statement_id)
              .where(Statement.state == State.PUBLISHED.value, Delivery.status.in_(FAILED_FOR_GOOD),
                     Delivery.channel.in_([ch.name for ch in registry.all_channels() if ch.delivered_at_publish]))
              .group_by(Delivery.channel).order_by(Delivery.channel))
    return dict(s.execute(failed).all())


def _incident(s, settings: Settings, incident: Incident, audit: dict | None, now: datetime) -> dict:
    live = live_statement(s, incident.id)
    writing = [_in_progress(s, st) for st in incident.statements
               if st.state in BEING_WRITTEN and (live is None or st.version > live.version)]
    found = {"id": incident.id, "title": incident.title, "impact": incident.impact, "status": incident.status,
             "kind": incident.kind, "live": None, "writing": writing}
    if live is not None:
        view = statement_view(live)
        due = update_due(view, now, settings.update_reminder_minutes)
        left = (live.next_update_at - now).total_seconds() if live.next_update_at else None
        found["live"] = {**view, "due": due, "seconds_left": left,
                         "channels": (audit or {}).get("channels", {}), "drift": bool((audit or {}).get("drift")),
                         "progress": _progress(settings, live.id)}
    return found


def _in_progress(s, statement) -> dict:
    asked = s.scalars(select(ApprovalRequest).where(ApprovalRequest.statement_id == statement.id)
                      .order_by(ApprovalRequest.id)).all()
    people = sorted({r.user.name for r in asked})
    decided = [{"by": a.approver.name, "decision": a.decision} for a in statement.approvals]
    return {"id": statement.id, "version": statement.version, "state": statement.state, "headline": statement.headline,
            "author": statement.author.name if statement.author else None, "asked": people, "decided": decided}


def _progress(settings: Settings, statement_id: int) -> dict:
    counts = progress(settings, statement_id)
    total = sum(sum(c.values()) for c in counts.values())
    done = sum(n for c in counts.values() for status, n in c.items() if status not in BUSY)
    return {"statement_id": statement_id, "total": total, "done": done,
            "percent": round(100 * done / total) if total else 100}
