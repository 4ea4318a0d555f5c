"""Every public document, as bytes, from one snapshot: banner.json, banner.js, the status page,
the Atom and RSS feeds and the Statuspage v2 JSON.

The web app serves these bytes and the static export writes them, so a CDN serving the export
says exactly what the app says. Nothing here depends on the clock or the request: the same
database gives the same bytes.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup

from ..config import Settings
from ..render.environment import environment
from .snapshot import IncidentView, Shown, Snapshot
from .statuspage import EPOCH, SURFACE, StatuspageDocuments, iso

JSON = "application/json"
BANNER_SCRIPT = "_web/banner.js"  # a static file that lives with the templates (it carries wording)


@dataclass(frozen=True)
class Document:
    path: str  # where it goes in a static export; the URL path is "/" + path, except the status page
    body: bytes
    media_type: str


# URL path → document path. The status page is a directory index in an export, so that any
# static server answers /status/ with it.
STATUS_PAGE = "status/index.html"
ROUTES = {"/banner.json": "banner.json", "/banner.js": "banner.js", "/status": STATUS_PAGE,
          "/feed.atom": "feed.atom", "/feed.rss": "feed.rss"} | {
    f"/api/v2/{name}": f"api/v2/{name}" for name in (
        "summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
        "scheduled-maintenances.json", "scheduled-maintenances/upcoming.json",
        "scheduled-maintenances/active.json")}


def render_documents(settings: Settings, snapshot: Snapshot) -> dict[str, Document]:
    """{document path: Document} for everything in ROUTES."""
    site = Site(settings)
    statuspage = StatuspageDocuments(snapshot, settings.company_name, site.root, site.describe, site.incident_url)
    docs = [Document("banner.json", _json(banner(site, snapshot)), JSON),
            Document("banner.js", banner_script(settings), "text/javascript; charset=utf-8"),
            Document(STATUS_PAGE, status_page(site, snapshot, statuspage), "text/html; charset=utf-8")]
    docs += [Document(f"api/v2/{name}", _json(body), JSON) for name, body in statuspage.documents().items()]
    docs += feeds(site, snapshot)
    return {doc.path: doc for doc in docs}


class Site:
    """The public site's addresses and its customer-facing wording (from templates/_web/)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.status_page_url.rstrip("/")
        self.env = environment(settings.templates_dir)

    def incident_url(self, incident_id: int) -> str:
        return f"{self.root}/status#incident-{incident_id}"

    def words(self, name: str, **context) -> str:
        return self.env.get_template(f"_web/{name}").render(company_name=self.settings.company_name,
                                                            **context).strip()

    def describe(self, indicator: str) -> str:
        return self.words("status_description.txt", indicator=indicator)


def banner(site: Site, snapshot: Snapshot) -> dict | None:
    """The live banner of the most severe unresolved incident, or None when nothing is live."""
    view = snapshot.most_severe("banner")
    if view is None:
        return None
    live = view.live("banner")
    return {"incident_id": view.id, "statement_id": live.statement_id, "version": live.version,
            "text": live.fields.get("text", ""), "severity": live.fields.get("severity", live.impact),
            "impact": live.impact, "status": live.status, "url": site.incident_url(view.id),
            "updated_at": iso(live.published_at)}


def banner_script(settings: Settings) -> bytes:
    return (settings.templates_dir / BANNER_SCRIPT).read_bytes()


def status_page(site: Site, snapshot: Snapshot, statuspage: StatuspageDocuments) -> bytes:
    active = [_incident_context(site, view) for view in snapshot.unresolved(SURFACE)]
    history = [_incident_context(site, view) for view in snapshot.with_surface(SURFACE)
               if not view.unresolved_on(SURFACE)]
    maintenances = [{**_incident_context(site, view), "starts": view.scheduled_for, "ends": view.scheduled_until}
                    for view in snapshot.maintenances(SURFACE) if not view.live(SURFACE).resolved]
    template = site.env.get_template("_web/status.html")
    html = template.render(maintenances=maintenances,
        company_name=site.settings.company_name, zone=site.settings.zone,
        indicator=statuspage.status["indicator"], description=statuspage.status["description"],
        components=statuspage.components(), active=active, history=history,
        updated_at=snapshot.switched_at, feed_url="/feed.atom", rss_url="/feed.rss",
        subscribe_url=f"{site.root}/subscribe")
    return html.encode("utf-8")


def _incident_context(site: Site, view: IncidentView) -> dict:
    live = view.live(SURFACE)
    return {"id": view.id, "title": view.title, "impact": live.impact, "status": live.status,
            "url": site.incident_url(view.id), "updates": [_update_context(u) for u in view.history(SURFACE)]}


def _update_context(update: Shown) -> dict:
    # The stored status_page body was escaped by its own (autoescaped) template when it was
    # rendered and approved; Markup says so, so it is shown byte for byte, not escaped twice.
    return {"version": update.version, "status": update.status, "at": update.published_at,
            "body": Markup(update.fields.get("body", ""))}


def feeds(site: Site, snapshot: Snapshot) -> list[Document]:
    """Atom and RSS: one entry per update the status page has shown, newest first."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(f"{site.root}/feed.atom")
    feed.title(site.words("feed_title.txt"))
    feed.subtitle(site.words("feed_subtitle.txt"))
    feed.author({"name": site.settings.company_name})
    feed.link(href=f"{site.root}/status", rel="alternate")
    feed.link(href=f"{site.root}/feed.atom", rel="self")
    feed.language("en")
    feed.updated(snapshot.switched_at or EPOCH)  # not "now": the same database gives the same bytes
    for view, update in _updates_newest_first(snapshot):
        entry = feed.add_entry(order="append")
        entry.id(f"{site.incident_url(view.id)}-v{update.version}")
        entry.guid(f"{site.incident_url(view.id)}-v{update.version}", permalink=False)
        entry.title(update.headline)
        entry.link(href=site.incident_url(view.id))
        entry.category(term=update.status)
        entry.content(update.fields.get("body", ""), type="html")
        entry.published(update.published_at)
        entry.updated(update.published_at)
    return [Document("feed.atom", feed.atom_str(pretty=True), "application/atom+xml"),
            Document("feed.rss", feed.rss_str(pretty=True), "application/rss+xml")]


def _updates_newest_first(snapshot: Snapshot) -> list[tuple[IncidentView, Shown]]:
    updates = [(view, update) for view in snapshot.with_surface(SURFACE) for update in view.history(SURFACE)]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(updates, key=lambda pair: (pair[1].published_at or oldest, pair[1].statement_id), reverse=True)


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
