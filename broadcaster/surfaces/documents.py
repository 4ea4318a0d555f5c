"""Every public document, as bytes, from one snapshot: banner.json, banner.js, the status page,
the Atom and RSS feeds, the Statuspage v2 JSON, the uptime history (uptime.json) and the CAP 1.2
alerts and their feed.

The web app serves these bytes and the static export writes them, so a CDN serving the export
says exactly what the app says. Nothing here depends on the request: the same database gives
the same bytes (the clock only ends a resolved banner, `banner_resolved_minutes` after it went
up, and moves the uptime bars and percentages on, minute by minute). The banner, the status page
and the feeds are made in every language of the installation:
the default language at the paths below, each other one under its tag (`es/status/index.html`);
the app picks one by `?lang=` or Accept-Language (web/public/status.py).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from markupsafe import Markup

from ..config import Settings
from ..render.environment import environment
from ..render.languages import language_name
from ..store.models import utcnow
from .cap import ALERT_DIRECTORY, CAP_MEDIA_TYPE, CapAlerts
from .cap import FEED_PATH as CAP_FEED
from .site_banner import banner_document
from .snapshot import IncidentView, PublishedPostmortem, Shown, Snapshot
from .statuspage import EPOCH, SURFACE, StatuspageDocuments
from .uptime_history import uptime_context, uptime_document

JSON = "application/json"
BANNER_SCRIPT = "_web/banner.js"  # a static file that lives with the templates (it carries wording)


@dataclass(frozen=True)
class Document:
    path: str  # where it goes in a static export; the URL path is "/" + path, except the status page
    body: bytes
    media_type: str
    etag: str = field(init=False, compare=False)  # a strong validator: the same bytes, the same tag

    def __post_init__(self):
        object.__setattr__(self, "etag", '"' + hashlib.blake2b(self.body, digest_size=12).hexdigest() + '"')


# URL path → document path. The status page is a directory index in an export, so that any
# static server answers /status/ with it.
STATUS_PAGE = "status/index.html"
ROUTES = {"/banner.json": "banner.json", "/banner.js": "banner.js", "/status": STATUS_PAGE,
          "/feed.atom": "feed.atom", "/feed.rss": "feed.rss", f"/{CAP_FEED}": CAP_FEED,
          "/uptime.json": "uptime.json"} | {
    f"/api/v2/{name}": f"api/v2/{name}" for name in (
        "summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
        "scheduled-maintenances.json", "scheduled-maintenances/upcoming.json",
        "scheduled-maintenances/active.json")}
# The documents said in the reader's language (the Statuspage JSON is data: the default language).
CAP_ALERTS = f"{ALERT_DIRECTORY}/"  # where each version's CAP alert is: cap/incident-12-v3.xml
LOCALIZED = ("banner.json", STATUS_PAGE, "feed.atom", "feed.rss")


def localized_path(path: str, locale: str, settings: Settings) -> str:
    """Where a document is in `locale`: 'es/status/index.html'; the default language's is the path itself."""
    return path if locale == settings.default_locale or path not in LOCALIZED else f"{locale}/{path}"


def render_documents(settings: Settings, snapshot: Snapshot, now: datetime | None = None) -> dict[str, Document]:
    """{document path: Document} for everything in ROUTES, the localized ones in every language, and
    every version's CAP alert (cap/incident-12-v3.xml, served by web/public/status.py's /cap/ route)."""
    now = now or utcnow()
    minute = now.replace(second=0, microsecond=0)  # the uptime bars move on by whole minutes
    default = Site(settings, settings.default_locale, snapshot.postmortems)
    statuspage = StatuspageDocuments(snapshot, settings.company_name, default.root, default.describe,
                                     default.incident_url)
    docs = [Document("banner.js", banner_script(settings), "text/javascript; charset=utf-8")]
    docs += [Document(f"api/v2/{name}", _json(body), JSON) for name, body in statuspage.documents().items()]
    docs.append(Document("uptime.json", _json(uptime_document(snapshot, minute, settings.zone, statuspage.page,
                                                              default.incident_url)), JSON))
    for locale in settings.all_locales:
        site = Site(settings, locale, snapshot.postmortems)
        keep = timedelta(minutes=settings.banner_resolved_minutes)
        docs += [Document(localized_path("banner.json", locale, settings),
                          _json(banner_document(snapshot, now, keep, locale, site.incident_url)), JSON),
                 Document(localized_path(STATUS_PAGE, locale, settings),
                          status_page(site, snapshot, statuspage, minute), "text/html; charset=utf-8")]
        docs += feeds(site, snapshot)
    docs += [Document(path, body, "application/atom+xml" if path == CAP_FEED else CAP_MEDIA_TYPE)
             for path, body in CapAlerts(default, snapshot).documents().items()]
    return {doc.path: doc for doc in docs}


class Site:
    """The public site in one language: its addresses and its customer-facing wording (templates/_web/)."""

    def __init__(self, settings: Settings, locale: str, postmortems=None):
        self.settings = settings
        self.locale = locale
        self.postmortems = postmortems or {}  # {incident id: PublishedPostmortem}
        self.root = settings.status_page_url.rstrip("/")
        self.env = environment(settings.templates_dir, locale)

    def page_url(self, locale: str | None = None) -> str:
        locale = locale or self.locale
        return f"{self.root}/status" + ("" if locale == self.settings.default_locale else f"?lang={locale}")

    def incident_url(self, incident_id: int) -> str:
        return f"{self.page_url()}#incident-{incident_id}"

    def words(self, name: str, **context) -> str:
        return self.env.get_template(f"_web/{name}").render(company_name=self.settings.company_name,
                                                            **context).strip()

    def describe(self, indicator: str) -> str:
        return self.words("status_description.txt", indicator=indicator)

    def languages(self) -> list[dict]:
        """Every language of the page, for hreflang links and the language menu."""
        return [{"tag": tag, "name": language_name(tag), "url": self.page_url(tag), "current": tag == self.locale}
                for tag in self.settings.all_locales]


def banner_script(settings: Settings) -> bytes:
    return (settings.templates_dir / BANNER_SCRIPT).read_bytes()


def status_page(site: Site, snapshot: Snapshot, statuspage: StatuspageDocuments, now: datetime) -> bytes:
    active = [_incident_context(site, view) for view in snapshot.unresolved(SURFACE)]
    history = [_incident_context(site, view) for view in snapshot.with_surface(SURFACE)
               if not view.unresolved_on(SURFACE)]
    maintenances = [{**_incident_context(site, view), "starts": view.scheduled_for, "ends": view.scheduled_until}
                    for view in snapshot.maintenances(SURFACE) if not view.live(SURFACE).resolved]
    template = site.env.get_template("_web/status.html")
    feed_query = "" if site.locale == site.settings.default_locale else f"?lang={site.locale}"
    html = template.render(maintenances=maintenances,
        company_name=site.settings.company_name, tz=site.settings.zone, now=snapshot.switched_at or EPOCH,
        indicator=statuspage.status["indicator"], description=site.describe(statuspage.status["indicator"]),
        components=component_tree(statuspage.components()), active=active, history=history,
        updated_at=snapshot.switched_at, feed_url=f"/feed.atom{feed_query}", rss_url=f"/feed.rss{feed_query}",
        subscribe_url=f"{site.root}/subscribe{feed_query}", languages=site.languages(),
        uptime=uptime_context(snapshot, now, site.settings.zone, site.locale))
    return html.encode("utf-8")


def component_tree(components: list[dict]) -> list[dict]:
    """The components in order, each group once with its members (`children`) under it."""
    by_id = {c["id"]: c for c in components}
    tree = []
    for component in components:
        if component.get("group"):
            tree.append({**component, "children": [by_id[i] for i in component["components"] if i in by_id]})
        elif not component.get("group_id"):
            tree.append({**component, "children": []})
    return tree


def _incident_context(site: Site, view: IncidentView) -> dict:
    live = view.live(SURFACE)
    # A maintenance's title is its statements' headline, translated with them; an incident's is its own.
    title = live.title_in(site.locale) if view.is_maintenance else view.title
    postmortem = site.postmortems.get(view.id)
    return {"id": view.id, "title": title, "impact": live.impact, "status": live.status,
            "url": site.incident_url(view.id),
            "updates": [_update_context(site, u) for u in view.history(SURFACE)],
            # sanitised when written (postmortems/rendering.py) and approved as it is: shown byte for byte
            "postmortem": postmortem and {"html": Markup(postmortem.html), "at": postmortem.published_at}}


def _update_context(site: Site, update: Shown) -> dict:
    # The stored status_page body was escaped by its own (autoescaped) template when it was
    # rendered and approved; Markup says so, so it is shown byte for byte, not escaped twice.
    fields, language = update.fields_in(site.locale)
    return {"version": update.version, "status": update.status, "at": update.published_at,
            "body": Markup(fields.get("body", "")), "lang": None if language == site.locale else language}


def feeds(site: Site, snapshot: Snapshot) -> list[Document]:
    """Atom and RSS: one entry per update the status page has shown, newest first."""
    from feedgen.feed import FeedGenerator

    query = "" if site.locale == site.settings.default_locale else f"?lang={site.locale}"
    feed = FeedGenerator()
    feed.id(f"{site.root}/feed.atom{query}")
    feed.title(site.words("feed_title.txt"))
    feed.subtitle(site.words("feed_subtitle.txt"))
    feed.author({"name": site.settings.company_name})
    feed.link(href=site.page_url(), rel="alternate")
    feed.link(href=f"{site.root}/feed.atom{query}", rel="self")
    feed.language(site.locale)
    feed.updated(snapshot.switched_at or EPOCH)  # not "now": the same database gives the same bytes
    for view, update in _updates_newest_first(snapshot):
        if isinstance(update, PublishedPostmortem):
            _postmortem_entry(site, feed.add_entry(order="append"), view, update)
            continue
        entry = feed.add_entry(order="append")
        entry.id(f"{site.incident_url(view.id)}-v{update.version}")
        entry.guid(f"{site.incident_url(view.id)}-v{update.version}", permalink=False)
        entry.title(update.title_in(site.locale))
        entry.link(href=site.incident_url(view.id))
        entry.category(term=update.status)
        entry.content(update.fields_in(site.locale)[0].get("body", ""), type="html")
        entry.published(update.published_at)
        entry.updated(update.published_at)
    return [Document(localized_path("feed.atom", site.locale, site.settings), feed.atom_str(pretty=True),
                     "application/atom+xml"),
            Document(localized_path("feed.rss", site.locale, site.settings), feed.rss_str(pretty=True),
                     "application/rss+xml")]


def _postmortem_entry(site: Site, entry, view: IncidentView, postmortem: PublishedPostmortem) -> None:
    entry.id(f"{site.incident_url(view.id)}-postmortem")
    entry.guid(f"{site.incident_url(view.id)}-postmortem", permalink=False)
    entry.title(site.words("postmortem_title.txt", title=view.title))
    entry.link(href=site.incident_url(view.id))
    entry.category(term="postmortem")
    entry.content(postmortem.html, type="html")
    entry.published(postmortem.published_at)
    entry.updated(postmortem.published_at)


def _updates_newest_first(snapshot: Snapshot) -> list[tuple[IncidentView, Shown | PublishedPostmortem]]:
    """Every update the status page has shown, and every published postmortem, newest first."""
    updates = [(view, update) for view in snapshot.with_surface(SURFACE) for update in view.history(SURFACE)]
    updates += [(view, snapshot.postmortems[view.id]) for view in snapshot.with_surface(SURFACE)
                if view.id in snapshot.postmortems]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(updates, key=lambda pair: (pair[1].published_at or oldest, getattr(pair[1], "statement_id", 0)),
                  reverse=True)


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
