"""Which banner the website shows (banner.json, and banner.js on any page that embeds it).

In order: the most severe unresolved incident; else a maintenance in progress; else what was
resolved (or completed) in the last `banner_resolved_minutes`, so a visitor who saw the outage
sees that it is over, with `show_until` saying when that clears (banner.js hides it then, even
from a static copy that is not rewritten); else the next scheduled maintenance, with its window;
else nothing (`null`). The words are the stored, approved banner rendition in the reader's language.
"""

from datetime import datetime, timedelta

from .snapshot import IncidentView, Shown, Snapshot
from .statuspage import iso

SURFACE = "banner"


def _recently_over(snapshot: Snapshot, now: datetime, keep: timedelta) -> tuple[IncidentView, datetime] | None:
    """The newest incident or maintenance whose banner says it is over, still within `keep`."""
    over = [(view, live.published_at + keep) for view in snapshot.incidents
            if (live := view.live(SURFACE)) is not None and live.resolved and live.published_at + keep > now]
    return max(over, key=lambda pair: pair[1]) if over and keep > timedelta(0) else None


def choose(snapshot: Snapshot, now: datetime, keep: timedelta) -> tuple[IncidentView, datetime | None] | None:
    """(what the banner shows, until when: None while it is still going on), or None."""
    ongoing = snapshot.most_severe(SURFACE)
    if ongoing is not None:
        return ongoing, None
    active = snapshot.active_maintenances(SURFACE)
    if active:
        return active[0], None
    over = _recently_over(snapshot, now, keep)
    if over is not None:
        return over
    upcoming = [m for m in snapshot.maintenances(SURFACE) if not m.live(SURFACE).resolved]
    return (upcoming[0], None) if upcoming else None


def expires_at(snapshot: Snapshot, now: datetime, keep: timedelta) -> datetime | None:
    """When the banner chosen now stops being right by the clock alone (a resolution's time is up)."""
    chosen = choose(snapshot, now, keep)
    return chosen[1] if chosen else None


def banner_document(snapshot: Snapshot, now: datetime, keep: timedelta, locale: str, incident_url) -> dict | None:
    chosen = choose(snapshot, now, keep)
    if chosen is None:
        return None
    view, show_until = chosen
    live: Shown = view.live(SURFACE)
    fields, language = live.fields_in(locale)
    return {"incident_id": view.id, "statement_id": live.statement_id, "version": live.version,
            "text": fields.get("text", ""), "severity": fields.get("severity", live.impact),
            "impact": live.impact, "status": live.status, "kind": view.kind, "language": language,
            "url": incident_url(view.id), "updated_at": iso(live.published_at), "show_until": iso(show_until)}
