"""Every published version as an OASIS Common Alerting Protocol 1.2 alert, and an Atom feed of them
(OASIS "Example Practices: CAP Feeds 1.0"), so the alerting world (aggregators, public-alert
systems, a customer's own monitoring) reads our outages in the format it already speaks.

One alert per version the status page has shown, at a stable address (`/cap/incident-12-v3.xml`),
never changed once written: its words are the stored, approved renditions and texts (the status
page body as plain text, the headline, the workaround), one `info` block per language the
statement was approved in. Version 1 is an `Alert`, later versions `Update`s, and the version that
ends it (resolved, completed) a `Cancel`; each `references` every earlier version of its incident.
The affected components and their approved states are `parameter`s. The feed lists each
incident's newest alert (the one in effect: an updated alert replaces its entry), newest first,
each entry linking to its alert as `application/cap+xml`.

The mappings (CAP's urgency, severity and certainty from our status and impact) are below, and
documented in docs/guides/history.md.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree

from .snapshot import IncidentView, Shown, Snapshot
from .statuspage import SURFACE, plain_text

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
FEED_PATH = "cap.atom"
ALERT_DIRECTORY = "cap"

# Time available to act: ongoing now → Immediate; a fix being watched → Expected; planned work
# not yet started → Future; over → Past.
URGENCY = {"investigating": "Immediate", "identified": "Immediate", "monitoring": "Expected",
           "resolved": "Past", "scheduled": "Future", "in_progress": "Immediate", "verifying": "Expected",
           "completed": "Past"}
# How bad: our impact. CAP's Extreme is kept for threats to life, which an IT outage is not.
SEVERITY = {"critical": "Severe", "major": "Moderate", "minor": "Minor", "none": "Minor"}
# How sure: an incident on the status page has been observed; scheduled work is only likely until it starts.
CERTAINTY = {"scheduled": "Likely"}
ENDING = frozenset({"resolved", "completed"})



def cap_time(moment: datetime) -> str:
    """CAP's dateTime: seconds and a numeric offset, never 'Z' or fractions (the schema's pattern)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def alert_path(incident_id: int, version: int) -> str:
    return f"{ALERT_DIRECTORY}/incident-{incident_id}-v{version}.xml"


def msg_type(update: Shown) -> str:
    if update.status in ENDING:
        return "Cancel"
    return "Alert" if update.version == 1 else "Update"


class CapAlerts:
    """The CAP documents of one snapshot. `site` is the default language's Site (documents.Site):
    its root address, company name, incident URLs and languages."""

    def __init__(self, site, snapshot: Snapshot):
        self.site = site
        self.snapshot = snapshot
        self.sender = urlsplit(site.root).hostname or "broadcaster"

    def views(self) -> list[IncidentView]:
        return [view for view in self.snapshot.incidents if view.live(SURFACE) is not None]

    def documents(self) -> dict[str, bytes]:
        """{path: bytes}: every version's alert and the feed."""
        found = {}
        for view in self.views():
            updates = list(reversed(view.history(SURFACE)))  # oldest first
            for index, update in enumerate(updates):
                found[alert_path(view.id, update.version)] = self.alert(view, update, updates[:index])
        found[FEED_PATH] = self.feed()
        return found

    def identifier(self, view: IncidentView, update: Shown) -> str:
        return f"{self.sender}.incident-{view.id}-v{update.version}"

    def alert_url(self, view: IncidentView, update: Shown) -> str:
        return f"{self.site.root}/{alert_path(view.id, update.version)}"

    def alert(self, view: IncidentView, update: Shown, earlier: Iterable[Shown]) -> bytes:
        root = ElementTree.Element(_q("alert"))
        references = " ".join(f"{self.sender},{self.identifier(view, e)},{cap_time(e.published_at)}"
                              for e in earlier)
        header = {"identifier": self.identifier(view, update), "sender": self.sender,
                  "sent": cap_time(update.published_at), "status": "Actual", "msgType": msg_type(update),
                  "scope": "Public", "references": references, "incidents": f"{self.sender}.incident-{view.id}"}
        for name, value in header.items():  # in the schema's order; an empty one left out
            if value:
                _add(root, name, value)
        for locale in _languages(update):
            self._info(root, view, update, locale)
        ElementTree.indent(root)
        return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True,
                                    default_namespace=CAP_NAMESPACE) + b"\n"

    def _info(self, root, view: IncidentView, update: Shown, locale: str) -> None:
        fields, _ = update.fields_in(locale)
        texts = update.texts.get(locale) or {"workaround": update.workaround}
        info = ElementTree.SubElement(root, _q("info"))
        _add(info, "language", locale)
        _add(info, "category", "Infra")
        _add(info, "event", update.title_in(locale) if view.is_maintenance else view.title)
        _add(info, "urgency", URGENCY.get(update.status, "Unknown"))
        _add(info, "severity", "Minor" if view.is_maintenance else SEVERITY.get(update.impact, "Unknown"))
        _add(info, "certainty", CERTAINTY.get(update.status, "Observed"))
        if view.is_maintenance and view.scheduled_for:
            _add(info, "onset", cap_time(view.scheduled_for))
        else:
            _add(info, "onset", cap_time(view.created_at))
        if view.is_maintenance and view.scheduled_until:
            _add(info, "expires", cap_time(view.scheduled_until))
        _add(info, "senderName", self.site.settings.company_name)
        _add(info, "headline", update.title_in(locale))
        description = plain_text(fields.get("body", ""))
        if description:
            _add(info, "description", description)
        if texts.get("workaround"):
            _add(info, "instruction", texts["workaround"])
        _add(info, "web", self.site.incident_url(view.id) if locale == self.site.locale
             else f"{self.site.page_url(locale)}#incident-{view.id}")
        parameters = [("impact", update.impact), ("status", update.status)]
        parameters += [("component", name) for name in update.components]
        parameters += [("componentState", f"{name}={state}") for name, state in update.component_states.items()]
        for name, value in parameters:
            parameter = ElementTree.SubElement(info, _q("parameter"))
            _add(parameter, "valueName", name)
            _add(parameter, "value", value)

    def feed(self) -> bytes:
        """The alerts in effect, as the CAP-feeds practice describes: one entry per incident, its newest
        alert, linked as application/cap+xml. Written with ElementTree: feedgen drops an entry link's
        `rel` and `type`, which are the point here."""
        site = self.site
        # Atom's attributes are unqualified, which ElementTree's default_namespace refuses: the
        # elements are written unqualified under an xmlns attribute instead.
        feed = ElementTree.Element("feed", {"xmlns": ATOM_NAMESPACE, "xml:lang": site.locale})
        _atom_add(feed, "id", f"{site.root}/{FEED_PATH}")
        _atom_add(feed, "title", f"{site.words('feed_title.txt')} (CAP)")
        _atom_add(feed, "subtitle", site.words("feed_subtitle.txt"))
        _atom_add(ElementTree.SubElement(feed, "author"), "name", site.settings.company_name)
        _atom_add(feed, "link", href=site.page_url(), rel="alternate", type="text/html")
        _atom_add(feed, "link", href=f"{site.root}/{FEED_PATH}", rel="self", type="application/atom+xml")
        _atom_add(feed, "updated", cap_time(self.snapshot.switched_at or datetime(1970, 1, 1, tzinfo=UTC)))
        newest = sorted(((view, view.live(SURFACE)) for view in self.views()),
                        key=lambda pair: (pair[1].published_at, pair[1].statement_id), reverse=True)
        for view, update in newest:
            entry = ElementTree.SubElement(feed, "entry")
            _atom_add(entry, "id", self.alert_url(view, update))
            _atom_add(entry, "title", update.title_in(site.locale))
            _atom_add(entry, "link", href=self.alert_url(view, update), rel="alternate", type=CAP_MEDIA_TYPE)
            _atom_add(entry, "link", href=site.incident_url(view.id), rel="related", type="text/html")
            _atom_add(entry, "category", term=msg_type(update))
            _atom_add(entry, "published", cap_time(update.published_at))
            _atom_add(entry, "updated", cap_time(update.published_at))
            summary = plain_text(update.fields_in(site.locale)[0].get("body", ""))
            if summary:
                _atom_add(entry, "summary", summary)
        ElementTree.indent(feed)
        return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _languages(update: Shown) -> list[str]:
    """The statement's own language first, then each translation's."""
    return [update.language] + sorted(tag for tag in update.localized if tag != update.language)


def _q(name: str) -> str:
    return f"{{{CAP_NAMESPACE}}}{name}"


def _add(parent, name: str, text: str) -> None:
    ElementTree.SubElement(parent, _q(name)).text = text


def _atom_add(parent, name: str, text: str | None = None, **attributes: str) -> None:
    ElementTree.SubElement(parent, name, attributes).text = text
