"""Uptime: how long each component spent in each approved state, per day, and what that makes
as a percentage. Pure: the caller gives the approved state changes and the clock.

A component's state at a moment is the worst state any incident's live version gave it then (an
incident's version is live from its publication until the next version of that incident; the
resolving version ends it). Scheduled maintenance is not downtime: maintenances are not given here.

The weights (Atlassian Statuspage's, so our percentages read like everyone else's):
a minute of major outage counts as a whole minute down, a minute of partial outage as 0.3 of
one, a minute of degraded performance as none (it is shown on the bar, but the service worked).
Uptime over a window = 100 × (1 − weighted minutes down ÷ minutes observed), rounded down to two
decimals, so any downtime at all shows below 100%.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from .component_states import RANK, ComponentState

WEIGHTS: Mapping[str, float] = {ComponentState.MAJOR_OUTAGE.value: 1.0, ComponentState.PARTIAL_OUTAGE.value: 0.3,
                                ComponentState.DEGRADED_PERFORMANCE.value: 0.0}
COUNTED = tuple(WEIGHTS)  # the states whose minutes a day records (worst first)
DAYS = 90


@dataclass(frozen=True)
class Change:
    """One approved version of one incident: from `at`, it gives these components these states."""

    incident_id: int
    at: datetime
    states: Mapping[str, str]  # component → state; a component not named is back to normal


@dataclass(frozen=True)
class Span:
    """A component in a state from `start` to `end`, because of an incident."""

    component: str
    state: str
    start: datetime
    end: datetime
    incident_id: int


@dataclass
class Day:
    day: date
    minutes: dict[str, float] = field(default_factory=dict)  # state → minutes in it (worst state wins)
    incidents: list[int] = field(default_factory=list)  # the incidents that touched this component this day
    observed: float = 0.0  # minutes of the day the component existed and the day had begun

    @property
    def downtime(self) -> float:
        """Weighted minutes down."""
        return sum(WEIGHTS[state] * minutes for state, minutes in self.minutes.items())

    @property
    def level(self) -> str:
        """What the day's bar shows: the worst state it had for a minute or more; 'no_data' before
        the component existed; else operational."""
        if self.observed <= 0:
            return "no_data"
        for state in COUNTED:
            if self.minutes.get(state, 0) >= 1:
                return state
        return ComponentState.OPERATIONAL.value


def spans(changes_by_incident: Mapping[int, Iterable[Change]], now: datetime) -> list[Span]:
    """Each incident's versions as spans of component states: a version lasts until the incident's
    next version (or `now`, for the newest of an incident still open)."""
    found = []
    for incident_id, changes in changes_by_incident.items():
        ordered = sorted(changes, key=lambda c: c.at)
        for change, following in zip(ordered, [*ordered[1:], None], strict=True):
            end = following.at if following else now
            for component, state in change.states.items():
                if state in WEIGHTS and end > change.at:
                    found.append(Span(component, state, change.at, min(end, now), incident_id))
    return found


def daily(component_spans: Iterable[Span], since: datetime | None, now: datetime, zone: tzinfo,
          days: int = DAYS) -> list[Day]:
    """One component's last `days` days (oldest first, today last) in `zone`: the minutes it spent in
    each counted state, the worst state winning where incidents overlap. `since`: when it began to
    exist (None: always)."""
    today = now.astimezone(zone).date()
    result = []
    component_spans = list(component_spans)
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start = datetime.combine(day, time(0), zone)
        end = min(datetime.combine(day + timedelta(days=1), time(0), zone), now)
        begin = max(start, since) if since else start
        record = Day(day, observed=max(0.0, (end - begin).total_seconds() / 60))
        touching = [s for s in component_spans if s.start < end and s.end > start]
        record.incidents = sorted({s.incident_id for s in touching})
        record.minutes = _worst_minutes(touching, start, end)
        result.append(record)
    return result


def _worst_minutes(touching: list[Span], start: datetime, end: datetime) -> dict[str, float]:
    """Minutes per state between start and end, each moment counted once, in its worst state."""
    moments = sorted({start, end} | {max(s.start, start) for s in touching} | {min(s.end, end) for s in touching})
    minutes: dict[str, float] = {}
    for left, right in zip(moments, moments[1:], strict=False):
        live = [s.state for s in touching if s.start <= left and s.end >= right]
        if live:
            state = max(live, key=lambda value: RANK[value])
            minutes[state] = minutes.get(state, 0.0) + (right - left).total_seconds() / 60
    return {state: round(value, 3) for state, value in minutes.items()}


def uptime_percent(days: Iterable[Day]) -> float | None:
    """The weighted uptime over these days, rounded down to two decimals; None with nothing observed."""
    days = list(days)
    observed = sum(d.observed for d in days)
    if observed <= 0:
        return None
    down = sum(d.downtime for d in days)
    return math.floor(round(10000 * (1 - down / observed), 6)) / 100  # round first: 99.5 stays 99.5
