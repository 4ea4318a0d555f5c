"""The CAP 1.2 alerts and their Atom feed over HTTP and in the static export, from statements drafted,
approved and published through the real use cases (SQLite and PostgreSQL): every document the public
server serves validates against the official OASIS schema."""

from xml.etree import ElementTree

import feedparser
import pytest
from fastapi.testclient import TestClient

from broadcaster.surfaces import export_static
from broadcaster.web.public import create_public_app
from tests.cap_schema import validate_cap
from tests.conftest import make_settings
from tests.integration.surfaces_data import open_incident, publish_update

CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
SPANISH = {"headline": "Algunos clientes no pueden iniciar sesión", "body": "Falla uno de cada cinco inicios.",
           "workaround": "Use la aplicación móvil."}


@pytest.fixture
def bilingual(database_url):
    return make_settings(database_url, locales=["es"], public_cache_seconds=0,
                         status_page_url="https://status.example.com")


def test_each_published_version_is_a_valid_cap_alert_at_a_stable_url_and_in_the_feed(bilingual, tmp_path):
    incident = open_incident(bilingual, "Login failures", "critical", ("Login", "API"))
    publish_update(bilingual, incident, translations={"es": SPANISH})
    publish_update(bilingual, incident, status="identified", headline="A bad certificate",
                   component_states={"Login": "major_outage", "API": "degraded_performance"})
    publish_update(bilingual, incident, status="resolved", headline="Logins work again",
                   translations={"es": {"resolution": "Ya se puede iniciar sesión"}})
    with TestClient(create_public_app(bilingual)) as client:
        feed_response = client.get("/cap.atom")
        assert feed_response.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(feed_response.content)
        assert not feed.bozo and len(feed.entries) == 1  # the incident's alert in effect: its Cancel
        alerts = {}
        for version in (1, 2, 3):
            response = client.get(f"/cap/incident-{incident}-v{version}.xml")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/cap+xml")
            validate_cap(response.content)
            alerts[version] = ElementTree.fromstring(response.content)
        assert client.get(f"/cap/incident-{incident}-v4.xml").status_code == 404
        assert client.get("/cap/..%2Fbanner.json").status_code == 404
    cap_link = [link.href for link in feed.entries[0].links if link.type == "application/cap+xml"]
    assert cap_link == [f"https://status.example.com/cap/incident-{incident}-v3.xml"]
    assert [a.findtext("cap:msgType", namespaces=CAP) for a in alerts.values()] == ["Alert", "Update", "Cancel"]
    first_infos = alerts[1].findall("cap:info", CAP)
    assert [i.findtext("cap:language", namespaces=CAP) for i in first_infos] == ["en", "es"]
    assert first_infos[1].findtext("cap:headline", namespaces=CAP) == SPANISH["headline"]
    assert first_infos[0].findtext("cap:severity", namespaces=CAP) == "Severe"  # critical
    second = alerts[2].find("cap:info", CAP)
    states = [p.findtext("cap:value", namespaces=CAP) for p in second.findall("cap:parameter", CAP)
              if p.findtext("cap:valueName", namespaces=CAP) == "componentState"]
    assert sorted(states) == ["API=degraded_performance", "Login=major_outage"]
    assert len(alerts[3].findtext("cap:references", namespaces=CAP).split()) == 2
    spanish_end = alerts[3].findall("cap:info", CAP)[1]
    assert spanish_end.findtext("cap:headline", namespaces=CAP) == "Ya se puede iniciar sesión"
    assert spanish_end.findtext("cap:urgency", namespaces=CAP) == "Past"
    # The static export writes the same bytes at the same paths.
    export_static(bilingual, tmp_path)
    with TestClient(create_public_app(bilingual)) as client:
        for version in (1, 2, 3):
            path = f"cap/incident-{incident}-v{version}.xml"
            assert (tmp_path / path).read_bytes() == client.get(f"/{path}").content
        assert (tmp_path / "cap.atom").read_bytes() == client.get("/cap.atom").content
