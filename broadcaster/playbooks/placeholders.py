"""Filling a template's `{placeholders}`: pure, no I/O. A template may name only the placeholders of
`Placeholder` (checked when it is saved); at use, each one named must have a value, or the
caller is told which and how to give it."""

import re
from collections.abc import Mapping
from enum import StrEnum

from ..domain.errors import InvalidInput


class Placeholder(StrEnum):
    COMPONENTS = "components"  # 'Login, API and Billing' (the statement's components, listed in its language)
    STARTED_AT = "started_at"  # '14:05 UTC': when it started (the first alert's start, else now)
    NEXT_UPDATE = "next_update"  # '30 minutes': the template's next-update interval
    ALERT = "alert"  # the alert's name (Alertmanager's alertname, PagerDuty's title), given at use by hand
    SUMMARY = "summary"  # the alert's summary annotation, given at use by hand
    SOURCE = "source"  # the monitoring source's name
    COUNT = "count"  # how many alerts are firing


PATTERN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
KNOWN = frozenset(p.value for p in Placeholder)


def named_in(text: str) -> list[str]:
    """The placeholders `text` names, in order, each once."""
    return list(dict.fromkeys(PATTERN.findall(text or "")))


def check(field: str, text: str) -> None:
    """InvalidInput naming the field and the placeholder if `text` names one that is not known."""
    unknown = [name for name in named_in(text) if name not in KNOWN]
    if unknown:
        raise InvalidInput(f"{field}: unknown placeholder {{{unknown[0]}}}; a template may use "
                           + ", ".join(f"{{{name}}}" for name in sorted(KNOWN)))


def fill(field: str, text: str, values: Mapping[str, str]) -> str:
    """`text` with every placeholder replaced by its value; InvalidInput naming the first without one."""
    missing = [name for name in named_in(text) if values.get(name) in (None, "")]
    if missing:
        raise InvalidInput(f"{field}: the placeholder {{{missing[0]}}} needs a value: give it at use "
                           f"(--value {missing[0]}=..., or values.{missing[0]} in the API)")
    return PATTERN.sub(lambda match: str(values[match.group(1)]), text or "")


def fill_known(text: str, values: Mapping[str, str]) -> str:
    """`text` with the placeholders that have a value replaced, the others left for a person to fill."""
    return PATTERN.sub(lambda match: str(values.get(match.group(1)) or match.group(0)), text or "")
