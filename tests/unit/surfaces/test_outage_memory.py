"""What the public server remembers for a database outage, without a database: the spool (entries
replayed in order, each once, the rest kept when one fails; the last snapshot) and the cache
serving its last documents while the database raises."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from broadcaster.config import Settings
from broadcaster.surfaces import SurfaceCache, cache
from broadcaster.surfaces.spool import CALLBACK, SMS_KEYWORD, Spool
from tests.unit.surfaces.test_documents import T0, snapshot


@pytest.fixture
def spool(tmp_path) -> Spool:
    return Spool(tmp_path / "spool.sqlite3")


def test_entries_are_replayed_in_order_once_and_a_failure_keeps_the_rest(spool, tmp_path):
    spool.record(CALLBACK, incident_id=1, phone="+14155550100", locale=None)
    spool.record(SMS_KEYWORD, phone="+14155550101", keyword="stop")
    spool.record(SMS_KEYWORD, phone="+14155550101", keyword="start")
    applied = []

    def down_at_the_second(kind, payload):
        if len(applied) == 1:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        applied.append((kind, payload))

    with pytest.raises(OperationalError):
        spool.replay(down_at_the_second)
    assert [kind for _, kind, _ in spool.pending()] == [SMS_KEYWORD, SMS_KEYWORD]  # the first is gone
    assert Spool(tmp_path / "spool.sqlite3").pending_count() == 2  # on disk, for another process too
    assert spool.replay(lambda kind, payload: applied.append((kind, payload))) == 2
    assert [p.get("keyword") for _, p in applied] == [None, "stop", "start"]
    assert spool.pending() == [] and spool.replay(applied.append) == 0
    assert oct((tmp_path / "spool.sqlite3").stat().st_mode & 0o777) == "0o600"  # callers' numbers


def test_the_last_snapshot_outlives_the_process(spool, tmp_path):
    assert spool.last_snapshot() is None
    spool.keep_snapshot(snapshot())
    assert Spool(tmp_path / "spool.sqlite3").last_snapshot() == snapshot()


def test_the_cache_serves_its_last_documents_while_the_database_is_down(monkeypatch, tmp_path):
    settings = Settings(_env_file=None, public_cache_seconds=0)
    now = [0.0]
    # one wall-clock moment for every render: the status page and uptime.json say "now" in minutes,
    # so two renders either side of a minute's turn differ (CI saw it once in 2,851 tests)
    def at_t0():
        return T0 + timedelta(minutes=30)

    surfaces = SurfaceCache(settings, clock=lambda: now[0], wall_clock=at_t0, spool=Spool(tmp_path / "spool.sqlite3"))
    monkeypatch.setattr(cache, "switch_marker", lambda _settings: (1, 1))
    monkeypatch.setattr(cache, "take_snapshot", lambda _settings: snapshot())
    before = surfaces.documents()
    assert surfaces.poll() and not surfaces.database_down

    def down(_settings):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(cache, "switch_marker", down)
    now[0] += 10
    assert surfaces.documents() == before and surfaces.database_down
    assert surfaces.poll() is False and surfaces.snapshot() == snapshot()
    # a new process during the outage: the spool's snapshot, the same bytes
    fresh = SurfaceCache(settings, wall_clock=at_t0, spool=Spool(tmp_path / "spool.sqlite3"))
    assert fresh.documents() == before
    # and with nothing kept, the error stands (a 500, not an empty page)
    with pytest.raises(OperationalError):
        SurfaceCache(settings, spool=Spool(tmp_path / "other.sqlite3")).documents()
