"""Each component's last 90 days, from the approved state changes the status page has shown: the
daily bars and uptime percentages of the status page, and the same as JSON (`/uptime.json`).

The history is the published versions themselves (immutable once approved, each with its
components' approved states and its publication time), read with the rest of the snapshot; the
maths is domain/uptime.py. Scheduled maintenance is left out: it is not downtime.
"""

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from babel.numbers import format_percent

from ..domain.component_states import derived_state
from ..domain.uptime import COUNTED, DAYS, WEIGHTS, Change, Day, daily, spans, uptime_percent
from .snapshot import Shown, Snapshot
from .statuspage import SURFACE


def approved_states(update: Shown) -> dict[str, str]:
    """The state this version gives each component it names; none once the incident is over."""
    if update.resolved:
        return {}
    return {name: update.component_states.get(name) or derived_state(update.impact, update.status).value
            for name in update.components}


def history(snapshot: Snapshot, now: datetime, zone: tzinfo) -> list[tuple[str, list[Day]]]:
    """(component, its days oldest first) for every component: the components table's in its order
    (groups are headings, not components), then any other a shown incident named."""
    incidents = snapshot.with_surface(SURFACE)
    changes = {view.id: [Change(view.id, u.published_at, approved_states(u)) for u in view.history(SURFACE)]
               for view in incidents}
    all_spans = spans(changes, now)
    table = {c.name: c for c in snapshot.components}
    named = {span.component for span in all_spans}
    names = list(table) + sorted(named - set(table))
    return [(name, daily([s for s in all_spans if s.component == name],
                         table[name].created_at if name in table else None, now, zone))
            for name in names]


def uptime_document(snapshot: Snapshot, now: datetime, zone: tzinfo, page: dict,
                    incident_url: Callable[[int], str]) -> dict:
    """The JSON: per component, its uptime and each day's minutes per state and incidents."""
    titles = _titles(snapshot)
    return {
        "page": page, "days": DAYS, "time_zone": str(zone), "weights": dict(WEIGHTS),
        "components": [{
            "name": name, "uptime_percent": uptime_percent(days),
            "days": [{"date": day.day.isoformat(), "level": day.level, "observed_minutes": round(day.observed, 3),
                      "downtime_minutes": round(day.downtime, 3),
                      **{f"{state}_minutes": day.minutes.get(state, 0.0) for state in COUNTED},
                      "incidents": [{"id": str(i), "name": titles.get(i, ""), "shortlink": incident_url(i)}
                                    for i in day.incidents]}
                     for day in days]}
            for name, days in history(snapshot, now, zone)],
    }


def uptime_context(snapshot: Snapshot, now: datetime, zone: tzinfo, locale: str) -> list[dict]:
    """What templates/_web/uptime.html shows: per component its percentage (in the reader's number
    format) and its days, each with the minutes per state as durations and the incidents' titles."""
    titles = _titles(snapshot)
    shown = []
    for name, days in history(snapshot, now, zone):
        percent = uptime_percent(days)
        shown.append({
            "name": name,
            "percent": None if percent is None else format_percent(percent / 100, "#,##0.##%", locale=locale),
            "days": [{"date": datetime.combine(day.day, datetime.min.time(), zone) + timedelta(hours=12),
                      "level": day.level,
                      "spans": [(state, timedelta(minutes=round(day.minutes[state])))
                                for state in COUNTED if round(day.minutes.get(state, 0))],
                      "incidents": [titles.get(i, "") for i in day.incidents]}
                     for day in days]})
    return shown


def _titles(snapshot: Snapshot) -> dict[int, str]:
    return {view.id: view.title for view in snapshot.with_surface(SURFACE)}

