"""The Statuspage v2 public JSON (summary, status, components, incidents, scheduled maintenances),
with Statuspage's field names and value sets, so existing widgets and aggregators read our page.

Everything comes from the status page surface: the incidents and updates it shows, and the stored
`status_page` rendition as each update's body. Components are the ones incidents name; each is
as bad as the worst unresolved incident touching it.
"""

import hashlib
from datetime import UTC, datetime

from ..domain.incident import IncidentStatus
from .snapshot import SEVERITY, IncidentView, Shown, Snapshot

SURFACE = "status_page"
# Statuspage's component states, by the impact of the worst live incident touching one.
COMPONENT_STATUS = {"none": "operational", "minor": "degraded_performance", "major": "partial_outage",
                    "critical": "major_outage"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """Statuspage's time format: ISO 8601 with milliseconds (always UTC here)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stable_id(*parts: object) -> str:
    """Statuspage ids are opaque strings; ours are derived, so they never change between reads."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:12]


def indicator(snapshot: Snapshot) -> str:
    """The worst impact among unresolved incidents: none | minor | major | critical."""
    worst = snapshot.most_severe(SURFACE)
    return worst.live(SURFACE).impact if worst else "none"


class StatuspageDocuments:
    """The documents for one snapshot. `describe(indicator)` is the customer-facing wording of
    the overall state (it lives in templates/, so it is passed in); `incident_url(id)` is where
    the status page shows an incident."""

    def __init__(self, snapshot: Snapshot, page_name: str, page_url: str, describe, incident_url):
        self.snapshot = snapshot
        self.incident_url = incident_url
        self.page_url = page_url.rstrip("/")
        self.page_id = stable_id("page", self.page_url)
        self.page = {"id": self.page_id, "name": page_name, "url": self.page_url, "time_zone": "Etc/UTC",
                     # when a surface last switched, so the same database always gives the same bytes
                     "updated_at": iso(snapshot.switched_at or EPOCH)}
        self.status = {"indicator": indicator(snapshot), "description": describe(indicator(snapshot))}
        self._components = self._build_components()

    # --- documents, by path under /api/v2/ ---

    def documents(self) -> dict[str, dict]:
        incidents = [self.incident(i) for i in self.snapshot.with_surface(SURFACE)]
        unresolved = [self.incident(i) for i in self.snapshot.incidents if i.unresolved_on(SURFACE)]
        maintenances: list[dict] = []  # not modelled yet: always empty, in Statuspage's shape
        return {
            "summary.json": {"page": self.page, "components": self.components(), "incidents": unresolved,
                             "scheduled_maintenances": maintenances, "status": self.status},
            "status.json": {"page": self.page, "status": self.status},
            "components.json": {"page": self.page, "components": self.components()},
            "incidents.json": {"page": self.page, "incidents": incidents},
            "incidents/unresolved.json": {"page": self.page, "incidents": unresolved},
            "scheduled-maintenances.json": {"page": self.page, "scheduled_maintenances": maintenances},
            "scheduled-maintenances/upcoming.json": {"page": self.page, "scheduled_maintenances": maintenances},
            "scheduled-maintenances/active.json": {"page": self.page, "scheduled_maintenances": maintenances},
        }

    def components(self, names: tuple[str, ...] | None = None) -> list[dict]:
        if names is None:
            return list(self._components.values())
        return [self._components[name] for name in names if name in self._components]

    def incident(self, view: IncidentView) -> dict:
        updates = view.history(SURFACE)
        live = updates[0]
        first_at = {}
        for update in reversed(updates):  # oldest first: the first time each status was shown
            first_at.setdefault(update.status, update.published_at)
        return {
            "id": str(view.id), "name": view.title, "status": live.status, "impact": live.impact,
            "shortlink": self.incident_url(view.id),
            "created_at": iso(view.created_at), "updated_at": iso(live.published_at),
            "monitoring_at": iso(first_at.get(IncidentStatus.MONITORING.value)),
            "resolved_at": iso(live.published_at) if live.resolved else None,
            "started_at": iso(view.created_at), "page_id": self.page_id,
            "components": self.components(live.components),
            "incident_updates": [self._update(view, update) for update in updates],
        }

    # --- parts ---

    def _update(self, view: IncidentView, update: Shown) -> dict:
        at = iso(update.published_at)
        return {"id": str(update.statement_id), "status": update.status, "body": update.fields.get("body", ""),
                "incident_id": str(view.id), "created_at": at, "updated_at": at, "display_at": at,
                "affected_components": None}

    def _build_components(self) -> dict[str, dict]:
        """Every component an incident on the page names, in name order, with its state now."""
        first_seen: dict[str, datetime] = {}
        last_change: dict[str, datetime] = {}
        worst: dict[str, str] = {}
        for view in self.snapshot.with_surface(SURFACE):
            for update in view.history(SURFACE):
                for name in update.components:
                    first_seen[name] = min(first_seen.get(name, view.created_at), view.created_at)
                    last_change[name] = max(last_change.get(name, update.published_at), update.published_at)
            if view.unresolved_on(SURFACE):
                live = view.live(SURFACE)
                for name in live.components:
                    if SEVERITY.get(live.impact, 0) >= SEVERITY.get(worst.get(name, "none"), 0):
                        worst[name] = live.impact
        return {name: self._component(name, position, first_seen[name], last_change[name],
                                      COMPONENT_STATUS.get(worst.get(name, "none"), "operational"))
                for position, name in enumerate(sorted(first_seen), start=1)}

    def _component(self, name: str, position: int, created: datetime, updated: datetime, status: str) -> dict:
        return {"id": stable_id("component", self.page_url, name), "name": name, "status": status,
                "created_at": iso(created), "updated_at": iso(updated), "position": position,
                "description": None, "showcase": True, "start_date": None, "group_id": None,
                "page_id": self.page_id, "group": False, "only_show_if_degraded": False}
