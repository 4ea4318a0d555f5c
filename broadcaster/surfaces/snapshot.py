"""What the public surfaces show right now, read from the database in one go.

A surface (banner, status page, IVR) shows the newest version of an incident whose delivery to
that surface is done: the worker that "sends" to a live surface only records that delivery, so
its commit is the switch. Each surface is read on its own: the banner may still show v2 for a
moment while the status page already shows v3, exactly as the send log says.

The snapshot holds the stored renditions as they are: nothing is rendered again here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, raiseload

from ..domain.component_states import FINAL_STATUSES, MAINTENANCE_ACTIVE
from ..domain.delivery_status import REACHED
from ..domain.incident import Impact
from ..domain.maintenance_window import KIND as MAINTENANCE
from ..store.db import transaction
from ..store.models import LIVE_SURFACE_CHANNELS, Component, Delivery, Incident, Rendition, Statement, utcnow
from ..store.postmortem_models import Postmortem

# A delivery in one of these states means the surface shows that version ("simulated" is the
# log provider's "sent"; a surface is never "delivered", but the word means done everywhere).
SHOWN = REACHED
HISTORY_DAYS = 90
SEVERITY = {impact.value: rank for rank, impact in enumerate(Impact)}


@dataclass(frozen=True)
class Shown:
    """One version of an incident as one surface shows it: the statement and its stored words."""

    statement_id: int
    version: int
    status: str
    impact: str
    components: tuple[str, ...]
    headline: str
    published_at: datetime
    fields: Mapping[str, str]  # the stored rendition for this surface, byte for byte
    component_states: Mapping[str, str] = field(default_factory=dict)  # as approved; empty before 0008
    resolution: str = ""
    workaround: str = ""
    language: str = "en"  # the language of `fields` and of the statement's own words
    localized: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # {locale: stored rendition}
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # {locale: {headline, ...}}

    @property
    def resolved(self) -> bool:
        """Over: a resolved incident, a completed maintenance."""
        return self.status in FINAL_STATUSES

    def fields_in(self, locale: str) -> tuple[Mapping[str, str], str]:
        """(the stored rendition in `locale`, its language): the translation's, else the statement's own."""
        if locale in self.localized:
            return self.localized[locale], locale
        return self.fields, self.language

    def title_in(self, locale: str) -> str:
        """What this update says first, in `locale` where translated: the resolution once resolved."""
        texts = self.texts.get(locale) or {"headline": self.headline, "resolution": self.resolution}
        return (texts.get("resolution") or texts["headline"]) if self.status == "resolved" else texts["headline"]


@dataclass(frozen=True)
class IncidentView:
    id: int
    title: str
    created_at: datetime
    shown: Mapping[str, tuple[Shown, ...]]  # surface → every version it has shown, newest first
    kind: str = "incident"  # or "maintenance"
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None

    @property
    def is_maintenance(self) -> bool:
        return self.kind == MAINTENANCE

    def history(self, surface: str) -> tuple[Shown, ...]:
        return self.shown.get(surface, ())

    def live(self, surface: str) -> Shown | None:
        versions = self.history(surface)
        return versions[0] if versions else None

    def unresolved_on(self, surface: str) -> bool:
        live = self.live(surface)
        return live is not None and not live.resolved


@dataclass(frozen=True)
class ComponentInfo:
    """A row of the components table."""

    name: str
    description: str
    group: str | None
    position: int
    created_at: datetime


@dataclass(frozen=True)
class PublishedPostmortem:
    """An incident's published postmortem: its approved, sanitised HTML and its Markdown."""

    incident_id: int
    html: str
    markdown: str
    published_at: datetime


@dataclass(frozen=True)
class Snapshot:
    incidents: tuple[IncidentView, ...]  # newest first; maintenances too (see `maintenances`)
    switched_at: datetime | None  # when a surface last switched: the page's "updated at"
    marker: tuple = field(default=())  # what `switch_marker` said when this was read
    components: tuple[ComponentInfo, ...] = ()  # the components table, in display order
    postmortems: Mapping[int, PublishedPostmortem] = field(default_factory=dict)  # by incident id

    def with_surface(self, surface: str) -> list[IncidentView]:
        """Incidents (not maintenances) this surface has shown."""
        return [i for i in self.incidents if i.live(surface) is not None and not i.is_maintenance]

    def maintenances(self, surface: str) -> list[IncidentView]:
        """Maintenances this surface has shown, the soonest window first."""
        shown = [i for i in self.incidents if i.live(surface) is not None and i.is_maintenance]
        return sorted(shown, key=lambda i: (i.scheduled_for or i.created_at, i.id))

    def active_maintenances(self, surface: str) -> list[IncidentView]:
        return [i for i in self.maintenances(surface) if i.live(surface).status == MAINTENANCE_ACTIVE]

    def live_states(self, surface: str) -> list[Shown]:
        """The live version of everything ongoing that sets component states: unresolved incidents
        and maintenances in progress."""
        ongoing = [i.live(surface) for i in self.incidents if i.unresolved_on(surface) and not i.is_maintenance]
        return ongoing + [i.live(surface) for i in self.active_maintenances(surface)]

    def unresolved(self, surface: str) -> list[IncidentView]:
        """Incidents this surface shows as ongoing, the most severe (then the newest) first."""
        ongoing = [i for i in self.incidents if i.unresolved_on(surface) and not i.is_maintenance]
        return sorted(ongoing, key=lambda i: (-SEVERITY.get(i.live(surface).impact, 0), -i.id))

    def most_severe(self, surface: str) -> IncidentView | None:
        ongoing = self.unresolved(surface)
        return ongoing[0] if ongoing else None


def switch_marker(settings) -> tuple:
    """Cheap (a partial index of a few rows per published version): changes whenever a live
    surface switches, so a cached snapshot is read again only when there is something new."""
    with transaction(settings.database_url, wait=False) as s:
        return _switch_marker(s)


def _switch_marker(s: Session) -> tuple:
    # One question: a published postmortem changes the pages as a switch does.
    postmortems = select(func.count()).where(Postmortem.published_at.is_not(None)).scalar_subquery()
    return tuple(s.execute(select(func.count(), func.max(Delivery.id), postmortems)
                           .where(Delivery.channel.in_(LIVE_SURFACE_CHANNELS), Delivery.status.in_(SHOWN))).one())


def take_snapshot(settings, now: datetime | None = None) -> Snapshot:
    """Every incident a surface has shown, unresolved or resolved in the last 90 days."""
    cutoff = (now or utcnow()) - timedelta(days=HISTORY_DAYS)
    with transaction(settings.database_url, wait=False) as s:
        marker = _switch_marker(s)  # first: a switch while we read makes the next check read again
        rows = s.execute(
            select(Delivery.channel, Delivery.updated_at, Statement, Rendition.locale, Rendition.fields, Incident)
            .join(Statement, Statement.id == Delivery.statement_id)
            .join(Rendition, (Rendition.statement_id == Statement.id) & (Rendition.channel == Delivery.channel))
            .join(Incident, Incident.id == Statement.incident_id)
            .where(Delivery.channel.in_(LIVE_SURFACE_CHANNELS), Delivery.status.in_(SHOWN),
                   or_(Incident.resolved_at.is_(None), Incident.resolved_at >= cutoff))
            .options(raiseload(Statement.translated_renditions))  # every language's words come in the join
        ).all()
        components = tuple(ComponentInfo(c.name, c.description, c.group_name, c.position, c.created_at)
                           for c in s.scalars(select(Component).order_by(
                               Component.group_name.is_not(None), Component.group_name, Component.position,
                               Component.name)))
        postmortems = {p.incident_id: PublishedPostmortem(p.incident_id, p.html, p.markdown, p.published_at)
                       for p in s.scalars(select(Postmortem).where(Postmortem.published_at.is_not(None),
                                                                   Postmortem.published_at >= cutoff))}
        return replace(_assemble(rows, marker, components), postmortems=postmortems)


def _assemble(rows, marker: tuple, components: tuple[ComponentInfo, ...] = ()) -> Snapshot:
    incidents: dict[int, Incident] = {}
    found: dict[int, dict[str, dict[int, tuple[Statement, dict]]]] = {}  # its renditions by locale
    switched_at = None
    for channel, updated_at, statement, locale, fields, incident in rows:
        incidents[incident.id] = incident
        versions = found.setdefault(incident.id, {}).setdefault(channel, {})
        versions.setdefault(statement.version, (statement, {}))[1][locale] = fields
        switched_at = updated_at if switched_at is None else max(switched_at, updated_at)
    shown = {incident_id: {channel: {version: _shown(statement, by_locale)
                                     for version, (statement, by_locale) in versions.items()}
                           for channel, versions in channels.items()}
             for incident_id, channels in found.items()}
    views = [IncidentView(id=i.id, title=i.title, created_at=i.created_at,
                          shown={channel: tuple(v for _, v in sorted(versions.items(), reverse=True))
                                 for channel, versions in shown[i.id].items()},
                          kind=i.kind, scheduled_for=i.scheduled_for, scheduled_until=i.scheduled_until)
             for i in incidents.values()]
    views.sort(key=lambda view: view.id, reverse=True)
    return Snapshot(incidents=tuple(views), switched_at=switched_at, marker=marker, components=components)


def _shown(statement: Statement, by_locale: Mapping[str, Mapping[str, str]]) -> Shown:
    """One version as a surface shows it; `by_locale` is its stored renditions, '' the statement's own."""
    return Shown(statement_id=statement.id, version=statement.version, status=statement.status,
                 impact=statement.impact, components=tuple(statement.components or ()),
                 headline=statement.headline, published_at=statement.published_at or statement.created_at,
                 fields=dict(by_locale.get("", {})), component_states=dict(statement.component_states or {}),
                 resolution=statement.resolution or "",
                 workaround=statement.workaround or "", language=statement.language or "en",
                 localized={locale: dict(fields) for locale, fields in by_locale.items() if locale},
                 texts=dict(statement.translations or {}))
