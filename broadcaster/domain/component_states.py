"""The state of each component an update names, as Statuspage names them.

A statement carries one state per component it names; the approval covers them like the words.
States not given are derived from the statement: its impact while an incident is open,
`operational` once it is resolved, `under_maintenance` while a maintenance is in progress.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum

from .errors import InvalidInput


class ComponentState(StrEnum):
    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"


# Worse states rank higher: a component two live updates name shows the worse of the two.
RANK = {state.value: rank for rank, state in enumerate(ComponentState)}
BY_IMPACT = {"none": ComponentState.OPERATIONAL, "minor": ComponentState.DEGRADED_PERFORMANCE,
             "major": ComponentState.PARTIAL_OUTAGE, "critical": ComponentState.MAJOR_OUTAGE}
# Statuses after which a component is back to normal, and the one that means work under way.
FINAL_STATUSES = frozenset({"resolved", "completed"})
MAINTENANCE_ACTIVE = "in_progress"


def derived_state(impact: str, status: str) -> ComponentState:
    if status in FINAL_STATUSES or status == "scheduled":
        return ComponentState.OPERATIONAL
    if status == MAINTENANCE_ACTIVE:
        return ComponentState.UNDER_MAINTENANCE
    return BY_IMPACT.get(impact, ComponentState.PARTIAL_OUTAGE)


def component_states(components: Iterable[str], given: Mapping[str, str] | None, impact: str,
                     status: str) -> dict[str, str]:
    """One state per named component: the one given, else the derived one. A state for a
    component the statement does not name is refused (name it with --component too)."""
    components = list(components)
    given = dict(given or {})
    unknown = sorted(set(given) - set(components))
    if unknown:
        raise InvalidInput(f"component state: {', '.join(unknown)} is not among the statement's components "
                           f"({', '.join(components) or 'none'}); add it with --component")
    states = {}
    for name in components:
        value = given.get(name)
        states[name] = parse_state(value, name).value if value else derived_state(impact, status).value
    return states


def parse_state(value: str, component: str = "component") -> ComponentState:
    try:
        return ComponentState(value.strip().lower())
    except ValueError:
        choices = ", ".join(state.value for state in ComponentState)
        raise InvalidInput(f"component state of {component}: {value!r} is not one of {choices}") from None


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """`Login=major_outage` pairs (the CLI's --component-state) as a mapping."""
    states = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidInput(f"--component-state: {pair!r} should look like Login=major_outage")
        states[name.strip()] = parse_state(value, name.strip()).value
    return states


def worst(states: Iterable[str]) -> str:
    return max(states, key=lambda state: RANK.get(state, 0), default=ComponentState.OPERATIONAL.value)
