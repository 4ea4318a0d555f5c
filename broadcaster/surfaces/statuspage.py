"""The Statuspage v2 public JSON (summary, status, components, incidents, scheduled maintenances),
with Statuspage's field names and value sets, so existing widgets and aggregators read our page.

Everything comes from the status page surface: the incidents and updates it shows, and the stored
`status_page` rendition as each update's body: as plain text, as Statuspage's `body` is (widgets
show it as text; the approved HTML fragment would show its tags). Components are the components table (in its groups
and order) plus any other a shown incident names; each is in the worst state that a live,
approved update sets for it (unresolved incidents and maintenances in progress).
"""

import hashlib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from ..domain.component_states import BY_IMPACT, ComponentState, worst
from ..domain.incident import IncidentStatus
from ..domain.maintenance_window import MaintenanceStatus
from .snapshot import IncidentView, Shown, Snapshot

SURFACE = "status_page"
UPCOMING = frozenset({MaintenanceStatus.SCHEDULED.value})
ACTIVE = frozenset({MaintenanceStatus.IN_PROGRESS.value, MaintenanceStatus.VERIFYING.value})
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
    """The worst impact among unresolved incidents: none | minor | major | critical; with none,
    `maintenance` while a maintenance is in progress."""
    most_severe = snapshot.most_severe(SURFACE)
    if most_severe is not None:
        return most_severe.live(SURFACE).impact
    return "maintenance" if snapshot.active_maintenances(SURFACE) else "none"


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
        unresolved = [self.incident(i) for i in self.snapshot.unresolved(SURFACE)]
        maintenances = [self.maintenance(m) for m in self.snapshot.maintenances(SURFACE)]
        upcoming = [m for m in maintenances if m["status"] in UPCOMING]
        active = [m for m in maintenances if m["status"] in ACTIVE]
        return {
            "summary.json": {"page": self.page, "components": self.components(), "incidents": unresolved,
                             "scheduled_maintenances": active + upcoming, "status": self.status},
            "status.json": {"page": self.page, "status": self.status},
            "components.json": {"page": self.page, "components": self.components()},
            "incidents.json": {"page": self.page, "incidents": incidents},
            "incidents/unresolved.json": {"page": self.page, "incidents": unresolved},
            "scheduled-maintenances.json": {"page": self.page, "scheduled_maintenances": maintenances},
            "scheduled-maintenances/upcoming.json": {"page": self.page, "scheduled_maintenances": upcoming},
            "scheduled-maintenances/active.json": {"page": self.page, "scheduled_maintenances": active},
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
        found = {
            "id": str(view.id), "name": view.title, "status": live.status, "impact": live.impact,
            "shortlink": self.incident_url(view.id),
            "created_at": iso(view.created_at), "updated_at": iso(live.published_at),
            "monitoring_at": iso(first_at.get(IncidentStatus.MONITORING.value)),
            "resolved_at": iso(live.published_at) if live.resolved else None,
            "started_at": iso(view.created_at), "page_id": self.page_id,
            "components": self.components(live.components),
            "incident_updates": [self._update(view, update) for update in updates],
        }
        postmortem = self.snapshot.postmortems.get(view.id)
        if postmortem is not None and not view.is_maintenance:
            # As Statuspage shows one: the incident's status `postmortem`, the postmortem its newest update.
            at = iso(postmortem.published_at)
            found.update(status="postmortem", updated_at=at, postmortem_body=postmortem.markdown,
                         postmortem_published_at=at)
            found["incident_updates"].insert(0, {
                "id": f"postmortem-{view.id}", "status": "postmortem", "body": plain_text(postmortem.html),
                "incident_id": str(view.id), "created_at": at, "updated_at": at, "display_at": at,
                "affected_components": None})
        return found

    def maintenance(self, view: IncidentView) -> dict:
        """A scheduled maintenance in Statuspage's shape: an incident with its window. It started when
        its in-progress update went out, never before: until then, when it is planned to start."""
        began = [u.published_at for u in view.history(SURFACE) if u.status in ACTIVE]
        return {**self.incident(view), "impact": "maintenance",
                "started_at": iso(min(began) if began else view.scheduled_for),
                "scheduled_for": iso(view.scheduled_for), "scheduled_until": iso(view.scheduled_until)}

    # --- parts ---

    def _update(self, view: IncidentView, update: Shown) -> dict:
        at = iso(update.published_at)
        return {"id": str(update.statement_id), "status": update.status,
                "body": plain_text(update.fields.get("body", "")),
                "incident_id": str(view.id), "created_at": at, "updated_at": at, "display_at": at,
                "affected_components": None}

    def _build_components(self) -> dict[str, dict]:
        """The components table in its order, then any other component a shown incident names (by
        name), each in the worst state a live update sets for it. Groups come first in Statuspage's
        way: a `group: true` component listing its children, each child naming its `group_id`."""
        first_seen: dict[str, datetime] = {}
        last_change: dict[str, datetime] = {}
        for view in self.snapshot.with_surface(SURFACE) + self.snapshot.maintenances(SURFACE):
            for update in view.history(SURFACE):
                for name in update.components:
                    first_seen[name] = min(first_seen.get(name, view.created_at), view.created_at)
                    last_change[name] = max(last_change.get(name, update.published_at), update.published_at)
        states: dict[str, list[str]] = {}
        for live in self.snapshot.live_states(SURFACE):
            for name in live.components:
                states.setdefault(name, []).append(_state_of(live, name))
        table = {c.name: c for c in self.snapshot.components}
        names = list(table) + sorted(set(first_seen) - set(table))
        built: dict[str, dict] = {}
        groups: dict[str, dict] = {}
        for position, name in enumerate(names, start=1):
            row = table.get(name)
            created = min(filter(None, (row.created_at if row else None, first_seen.get(name))))
            updated = max(filter(None, (row.created_at if row else None, last_change.get(name))))
            component = self._component(name, position, created, updated, worst(states.get(name, ())))
            if row is not None:
                component["description"] = row.description or None
                if row.group:
                    group = groups.get(row.group)
                    if group is None:
                        group = groups[row.group] = self._component(row.group, position, created, updated,
                                                                    ComponentState.OPERATIONAL.value)
                        group.update(group=True, components=[], id=stable_id("group", self.page_url, row.group))
                        built[f"group:{row.group}"] = group
                    component["group_id"] = group["id"]
                    group["components"].append(component["id"])
                    group["status"] = worst((group["status"], component["status"]))
                    group["updated_at"] = max(group["updated_at"], component["updated_at"])
            built[name] = component
        return built

    def _component(self, name: str, position: int, created: datetime, updated: datetime, status: str) -> dict:
        return {"id": stable_id("component", self.page_url, name), "name": name, "status": status,
                "created_at": iso(created), "updated_at": iso(updated), "position": position,
                "description": None, "showcase": True, "start_date": None, "group_id": None,
                "page_id": self.page_id, "group": False, "only_show_if_degraded": False}


def _state_of(update: Shown, name: str) -> str:
    """The approved state of a component; before states were approved, the impact's."""
    if name in update.component_states:
        return update.component_states[name]
    return BY_IMPACT.get(update.impact, ComponentState.PARTIAL_OUTAGE).value


class _Text(HTMLParser):
    BLOCKS = frozenset({"article", "section", "div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def plain_text(fragment: str) -> str:
    """The words of an HTML fragment, one line per block, entities decoded: what the approved
    status_page rendition says, without its markup (the same every time for the same bytes)."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    lines = (re.sub(r"\s+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)
