"""What the tests of a pytest process share to be cheap, and that nothing of one test reaches the next
through it: the path of every SQLite test's copy (one URL, one engine that keeps its compiled statements:
`tests/conftest.sqlite_copy_url`), and the event loop of the web app's test clients (`api_fixtures.serve`)."""

import asyncio

from sqlalchemy import text

from broadcaster.delivery import pause
from broadcaster.people import users
from broadcaster.store.db import engine_for
from tests.conftest import add_user, make_settings, sqlite_copy_url
from tests.integration.api_fixtures import install


def _tables(url: str) -> set[str]:
    with engine_for(url).connect() as connection:
        return set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())


def test_a_copy_starts_as_the_template_whatever_the_test_before_left_in_it(sqlite_template, tmp_path):
    first = make_settings(sqlite_copy_url(sqlite_template, tmp_path))
    template_tables = _tables(first.database_url)
    add_user(first, "alice", ["author"])
    pause.pause(first, "sms", "401 from the provider")
    assert pause.held_back(first, "sms")  # the pause, cached in this process for its URL
    straggler = engine_for(first.database_url).connect()  # a connection an earlier test never gave back
    straggler.execute(text("SELECT 1"))

    second = make_settings(sqlite_copy_url(sqlite_template, tmp_path))
    assert second.database_url == first.database_url  # the same URL: the same engine, its statements compiled
    assert not users.has_users(second) and pause.paused_channels(second) == {}
    assert pause.held_back(second, "sms") is None  # nothing of the first test's cached pause

    straggler.execute(text("CREATE TABLE left_behind (x)"))  # the straggler writes on: to the removed file
    straggler.commit()
    straggler.close()
    assert _tables(second.database_url) == template_tables


async def _tasks() -> int:
    return len(asyncio.all_tasks())


def test_every_client_shares_one_event_loop_and_a_request_leaves_no_task_on_it(sqlite_template, tmp_path):
    settings = make_settings(sqlite_copy_url(sqlite_template, tmp_path))
    site = install(settings, dispatch=lambda settings, ids: None)
    loop = site.client.portal
    before = loop.call(_tasks)
    assert site.client.get("/api/v1/incidents", headers=site.as_role("author")).status_code == 200
    assert site.client.get("/dashboard").status_code in (200, 303)  # a page, streamed to the client
    assert site.client.post("/api/v1/incidents", json={}, headers=site.as_role("author")).status_code == 422
    assert loop.call(_tasks) == before
    again = install(make_settings(sqlite_copy_url(sqlite_template, tmp_path)), dispatch=lambda settings, ids: None)
    assert again.client.portal is loop and again.client.app is not site.client.app  # one loop, an app a test
