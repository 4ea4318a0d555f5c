"""Pages and API lists stay the same size after a year of incidents: each reads a page in SQL, not the
installation's whole history (the home page took 16 s and 8,015 SQL statements at 2,001 incidents).
Nothing here times anything: the SQL statements of a request must not grow with the rows behind it."""

import html
import re

import pytest
from sqlalchemy import event, select, update

from broadcaster.approvals import decisions
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import publishing
from broadcaster.incidents.board import board
from broadcaster.people import auth
from broadcaster.store.db import engine_for, transaction
from broadcaster.store.models import Delivery, Rendition, Statement
from tests.conftest import actor
from tests.integration.api_fixtures import install
from tests.integration.history_data import VERSIONS, add_history

PASSWORD = "correct horse battery"
PAGES = ["/dashboard", "/dashboard/board", "/dashboard/inbox", "/dashboard/send-log",
         "/dashboard/consistency"]
LISTS = ["/api/v1/consistency", "/api/v1/incidents?limit=10",
         "/api/v1/statements?limit=10", "/api/v1/statements?limit=10&cursor=o20"]


@pytest.fixture
def site(settings):
    installation = install(settings, dispatch=lambda settings, ids: None)
    auth.set_password(settings, "alice", PASSWORD)
    form = installation.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = installation.client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token},
                                        follow_redirects=False)
    assert response.status_code == 303, response.text
    return installation


def statements_per_request(site, settings) -> dict[str, int]:
    engine, counted, sent = engine_for(settings.database_url), {}, []

    def count(*_):
        sent.append(1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        for path in PAGES + LISTS:
            sent.clear()
            response = site.client.get(path, headers=site.as_role("author") if path.startswith("/api/") else {})
            assert response.status_code == 200, (path, response.text[:300])
            counted[path] = len(sent)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counted


def test_no_page_or_list_sends_more_sql_for_a_longer_history(site, settings):
    add_history(settings, 60)  # more than a page of each list, so both counts read full pages
    statements_per_request(site, settings)  # once before counting: a token's first use is written down
    short = statements_per_request(site, settings)
    add_history(settings, 140)
    assert statements_per_request(site, settings) == short


def test_the_home_page_shows_the_newest_fifty_and_links_to_the_older_ones(site, settings):
    ids = add_history(settings, 60)  # with the installation's own incident, 61 in all
    first = site.client.get("/dashboard")
    shown = [int(n) for n in re.findall(r'<td class="num" data-label="#">(\d+)</td>', first.text)]
    assert shown == list(reversed(ids))[:50]
    assert "Incidents 1–50 of 61, newest first." in first.text
    older = re.search(r'href="(/dashboard\?offset=50#all-incidents)" rel="next">Older incidents</a>', first.text)
    assert older and 'rel="prev"' not in first.text
    second = site.client.get(older.group(1))
    rest = [int(n) for n in re.findall(r'<td class="num" data-label="#">(\d+)</td>', second.text)]
    assert rest == [*reversed(ids[:10]), 1]
    assert "Incidents 51–61 of 61, newest first." in second.text
    assert 'href="/dashboard?offset=0#all-incidents" rel="prev">Newer incidents</a>' in second.text
    assert 'rel="next"' not in second.text


@pytest.mark.parametrize("offset", ["-1", "abc", str(2**31)])
def test_the_home_page_refuses_an_offset_it_cannot_read(site, offset):
    response = site.client.get(f"/dashboard?offset={offset}")
    assert response.status_code == 422
    assert "offset" in response.text


def every_page(site, path: str) -> list[int]:
    ids, url = [], path
    while url:
        response = site.client.get(url, headers=site.as_role("author"))
        assert response.status_code == 200, response.text
        assert len(response.json()) <= 7
        ids += [row["id"] for row in response.json()]
        following = re.match(r'<([^>]+)>; rel="next"', response.headers.get("link", ""))
        url = following and following.group(1)
    return ids


def test_api_paging_gives_every_incident_and_statement_exactly_once(site, settings):
    ids = add_history(settings, 20)
    assert every_page(site, "/api/v1/incidents?limit=7") == [site.incident_id, *ids]
    statements = every_page(site, "/api/v1/statements?limit=7")
    assert len(statements) == len(set(statements)) == 1 + 20 * VERSIONS and statements == sorted(statements)
    one = every_page(site, f"/api/v1/statements?limit=2&incident_id={ids[3]}")
    assert len(one) == VERSIONS


def test_the_board_counts_failed_deliveries_of_resolved_incidents_live_versions(site, settings):
    ids = add_history(settings, 3)
    with transaction(settings.database_url) as s:
        live = s.scalar(select(Statement.id).where(Statement.incident_id == ids[1], Statement.state == "published"))
        older = s.scalar(select(Statement.id).where(Statement.incident_id == ids[1], Statement.version == 1))
        s.add_all([Delivery(statement_id=live, channel="sms", target="+14155550199", provider="log", status="failed"),
                   Delivery(statement_id=older, channel="sms", target="+14155550198", provider="log",
                            status="failed")])
    found = board(settings)
    assert found["failing"] == {"sms": 1}  # the live version's; the superseded one's is history
    assert [i["id"] for i in found["incidents"]] == [site.incident_id]  # the resolved ones are not on it


def consistency_page(site, query: str = "") -> tuple[list[int], str, str]:
    """The incidents' sections in order, the verdict as one line, and the page."""
    page = site.client.get(f"/dashboard/consistency{query}").text
    verdict = re.search(r'<p id="verdict">(.*?)</p>', page, re.S).group(1)
    return ([int(n) for n in re.findall(r'<h2 id="consistency-(\d+)"', page)],
            " ".join(html.unescape(re.sub(r"<[^>]+>", "", verdict)).split()), page)


def test_the_consistency_page_puts_incidents_behind_first_then_the_newest_a_page_at_a_time(site, settings):
    ids = add_history(settings, 60)
    shown, verdict, _ = consistency_page(site)
    assert shown == list(reversed(ids))[:50]
    assert verdict == "Every channel of all 60 incidents with a live version shows it, or has nobody to reach."
    decisions.approve(settings, actor(settings, "bob"), site.statement_id)
    publishing.publish(settings, actor(settings, "alice"), site.statement_id, dispatch=lambda *_args, **_kw: None)
    shown, verdict, first = consistency_page(site)  # published, nothing sent yet: behind, and the oldest incident
    assert shown == [site.incident_id, *reversed(ids)][:50]
    assert verdict == "1 incident has a channel behind (listed first): Login failures."
    assert "Incidents 1–50 of 61" in first and '<a class="button" href="?offset=50" rel="next">' in first
    shown, _, second = consistency_page(site, "?offset=50")
    assert shown == list(reversed(ids))[49:] and "Incidents 51–61 of 61" in second
    assert 'href="?offset=0" rel="prev"' in second and 'rel="next"' not in second
    shown, _, beyond = consistency_page(site, "?offset=500")
    assert shown == [] and "There are 61 incidents with a live version; none this far on." in beyond
    assert site.client.get("/dashboard/consistency?offset=-1").status_code == 422


def test_the_consistency_page_says_when_the_send_log_cannot_prove_what_was_sent(site, settings):
    decisions.approve(settings, actor(settings, "bob"), site.statement_id)
    publishing.publish(settings, actor(settings, "alice"), site.statement_id, dispatch=send_now)
    assert "Sends the send log cannot prove" not in site.client.get("/dashboard/consistency").text
    with engine_for(settings.database_url).begin() as connection:  # behind the app's back
        connection.execute(update(Rendition).where(Rendition.statement_id == site.statement_id,
                                                   Rendition.channel == "sms").values(fields={"text": "forged"}))
    page = " ".join(html.unescape(re.sub(r"<[^>]+>", "", site.client.get("/dashboard/consistency").text)).split())
    assert re.search(r"Sends the send log cannot prove \d+ sends? of the live versions (is|are) logged with a content "
                     r"hash that is not the hash of the approved words stored now", page), page
