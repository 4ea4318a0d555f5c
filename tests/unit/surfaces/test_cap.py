"""CAP 1.2 alerts and their Atom feed from a snapshot built by hand: every document validates
against the official OASIS schema, and says what the status page says."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import feedparser
import pytest

from broadcaster.config import Settings
from broadcaster.surfaces import render_documents
from broadcaster.surfaces.snapshot import IncidentView, Shown, Snapshot
from tests.cap_schema import validate_cap

T0 = datetime(2026, 3, 1, 14, 5, tzinfo=UTC)
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


def shown(version, status, impact="major", minutes=0, **more) -> Shown:
    return Shown(statement_id=100 + version, version=version, status=status, impact=impact,
                 components=("Login", "API"), headline=f"Headline v{version}",
                 published_at=T0 + timedelta(minutes=minutes),
                 fields={"body": f"<p>Body v{version} &amp; more</p>"}, workaround="Use the app",
                 component_states={"Login": "major_outage", "API": "degraded_performance"}, **more)


def view(id_, *versions, **more) -> IncidentView:
    newest_first = tuple(sorted(versions, key=lambda v: v.version, reverse=True))
    return IncidentView(id=id_, title=f"Incident {id_}", created_at=T0, shown={"status_page": newest_first}, **more)


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, status_page_url="https://status.example.com/", company_name="Example Co")


@pytest.fixture
def documents(settings):
    spanish = {"localized": {"es": {"body": "<p>Cuerpo v2</p>"}},
               "texts": {"es": {"headline": "Titular v2", "body": "Cuerpo v2", "workaround": "Use la app"}}}
    snapshot = Snapshot(incidents=(
        view(3, shown(1, "scheduled", "none"), shown(2, "in_progress", "none", minutes=60), kind="maintenance",
             scheduled_for=T0 + timedelta(hours=1), scheduled_until=T0 + timedelta(hours=3)),
        view(2, shown(1, "investigating", "critical", minutes=1)),
        view(1, shown(1, "investigating"), shown(2, "identified", minutes=10, **spanish),
             shown(3, "resolved", minutes=20, resolution="All fixed")),
    ), switched_at=T0 + timedelta(minutes=60))
    return render_documents(settings, snapshot)


def alert(documents, path):
    return ElementTree.fromstring(documents[path].body)


def text(element, path):
    return element.findtext(path, namespaces=CAP)


def test_every_alert_validates_against_the_cap_schema(documents):
    paths = sorted(p for p in documents if p.startswith("cap/"))
    assert paths == ["cap/incident-1-v1.xml", "cap/incident-1-v2.xml", "cap/incident-1-v3.xml",
                     "cap/incident-2-v1.xml", "cap/incident-3-v1.xml", "cap/incident-3-v2.xml"]
    for path in paths:
        validate_cap(documents[path].body)
        assert documents[path].media_type == "application/cap+xml"


def test_a_schema_violation_is_caught():
    import xmlschema

    bad = b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>'
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        validate_cap(bad)


def test_versions_chain_alert_update_cancel_with_references(documents):
    first, second, third = (alert(documents, f"cap/incident-1-v{v}.xml") for v in (1, 2, 3))
    assert [text(a, "cap:msgType") for a in (first, second, third)] == ["Alert", "Update", "Cancel"]
    assert text(first, "cap:identifier") == "status.example.com.incident-1-v1"
    assert text(first, "cap:sent") == "2026-03-01T14:05:00+00:00"
    assert text(first, "cap:references") is None
    first_reference = "status.example.com,status.example.com.incident-1-v1,2026-03-01T14:05:00+00:00"
    assert text(second, "cap:references") == first_reference
    assert text(third, "cap:references").split(" ") == [
        "status.example.com,status.example.com.incident-1-v1,2026-03-01T14:05:00+00:00",
        "status.example.com,status.example.com.incident-1-v2,2026-03-01T14:15:00+00:00"]
    assert {text(a, "cap:incidents") for a in (first, second, third)} == {"status.example.com.incident-1"}


def test_urgency_severity_and_certainty_follow_status_and_impact(documents):
    def triple(path):
        info = alert(documents, path).find("cap:info", CAP)
        return text(info, "cap:urgency"), text(info, "cap:severity"), text(info, "cap:certainty")

    assert triple("cap/incident-1-v1.xml") == ("Immediate", "Moderate", "Observed")  # major, investigating
    assert triple("cap/incident-1-v3.xml") == ("Past", "Moderate", "Observed")  # resolved
    assert triple("cap/incident-2-v1.xml") == ("Immediate", "Severe", "Observed")  # critical
    assert triple("cap/incident-3-v1.xml") == ("Future", "Minor", "Likely")  # maintenance scheduled
    assert triple("cap/incident-3-v2.xml") == ("Immediate", "Minor", "Observed")  # in progress


def test_one_info_per_language_with_the_approved_words_and_components(documents):
    infos = alert(documents, "cap/incident-1-v2.xml").findall("cap:info", CAP)
    assert [text(i, "cap:language") for i in infos] == ["en", "es"]
    english, spanish = infos
    assert {text(i, "cap:category") for i in infos} == {"Infra"}
    assert (text(english, "cap:headline"), text(english, "cap:description")) == ("Headline v2", "Body v2 & more")
    assert (text(spanish, "cap:headline"), text(spanish, "cap:description")) == ("Titular v2", "Cuerpo v2")
    assert (text(english, "cap:instruction"), text(spanish, "cap:instruction")) == ("Use the app", "Use la app")
    assert text(english, "cap:web") == "https://status.example.com/status#incident-1"
    assert text(spanish, "cap:web") == "https://status.example.com/status?lang=es#incident-1"
    parameters = [(text(p, "cap:valueName"), text(p, "cap:value")) for p in english.findall("cap:parameter", CAP)]
    assert ("component", "Login") in parameters and ("component", "API") in parameters
    assert ("componentState", "Login=major_outage") in parameters
    assert text(alert(documents, "cap/incident-1-v3.xml").find("cap:info", CAP), "cap:headline") == "All fixed"


def test_the_cap_feed_lists_each_incidents_newest_alert(documents):
    feed = feedparser.parse(documents["cap.atom"].body)
    assert not feed.bozo
    assert documents["cap.atom"].media_type == "application/atom+xml"
    entries = [(e.id, e.category if "category" in e else None) for e in feed.entries]
    assert entries == [("https://status.example.com/cap/incident-3-v2.xml", "Update"),
                       ("https://status.example.com/cap/incident-1-v3.xml", "Cancel"),
                       ("https://status.example.com/cap/incident-2-v1.xml", "Alert")]
    links = {link.type: link.href for link in feed.entries[1].links}
    assert links["application/cap+xml"] == "https://status.example.com/cap/incident-1-v3.xml"
    assert links["text/html"] == "https://status.example.com/status#incident-1"
