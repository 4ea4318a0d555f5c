"""PostgreSQL restarting and failing over under a fan-out through real `celery worker` processes, on
servers of the test's own (never the shared one): a crash and restart loses and doubles nothing; a
primary with a synchronous streaming replica fails over (`pg_ctl promote`) and every process finds the
new primary through its multi-host URL (`target_session_attrs=read-write`), writes resuming there."""

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from broadcaster.store.db import migrate
from broadcaster.web.app import create_app
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.fakes.server import running_fake
from tests.integration.engine import approved_statement, provider_settings, status_counts, wait_until
from tests.integration.own_servers import PostgresServers, postgres_servers
from tests.integration.recovery import (
    LIVE_SENT,
    QUICK_RECOVERY,
    UNCONFIGURED,
    fan_out_under_way,
    sent_exactly_once,
    until_settled,
)

RECIPIENTS = 5_000


def fan_out_across(servers: PostgresServers, url: str, redis_broker: str, logs, disrupt: Callable[[], None]) -> dict:
    """Publish to RECIPIENTS SMS subscribers, `disrupt` the database once a fifth has gone, and wait
    for the fan-out to finish; returns the provider's counts and how long each step took."""
    with running_fake() as fake:
        values = {"database_url": url, "broker_url": redis_broker, **provider_settings(fake.url), **QUICK_RECOVERY,
                  "database_retry_seconds": 30}
        settings = make_settings(**values)
        with fan_out_under_way(settings, values, fake, logs, RECIPIENTS) as (pool, sid, sent):
            started, sent_before = time.monotonic(), sent()
            disrupt()
            back_after = time.monotonic() - started
            resumed_after, finished_after = until_settled(settings, sid, sent, pool, started)
        return {"sms": fake.counts()["sms"], "statuses": status_counts(settings, sid), "sent_before": sent_before,
                "back_after": back_after, "resumed_after": resumed_after, "finished_after": finished_after,
                "settings": settings, "sid": sid}


def assert_exactly_once(run: dict) -> None:
    sent_exactly_once(run["sms"], RECIPIENTS)
    assert run["statuses"] == {"sent": RECIPIENTS + LIVE_SENT, **UNCONFIGURED}, run["statuses"]
    assert run["sent_before"] < RECIPIENTS * 0.8, "the disruption came too late to test anything"


@pytest.mark.slow
def test_postgres_crash_and_restart_mid_fanout_loses_and_doubles_nothing(redis_broker, tmp_path):
    with postgres_servers() as servers:
        servers.init("primary")
        servers.start("primary")
        servers.sql("primary", "CREATE DATABASE broadcaster")
        url = servers.url("primary", database="broadcaster")
        migrate(url)

        def crash_and_restart() -> None:
            servers.stop("primary", "immediate")  # every connection cut mid-transaction, no checkpoint
            servers.start("primary")  # crash recovery replays the WAL

        run = fan_out_across(servers, url, redis_broker, tmp_path, crash_and_restart)
    print(f"\nPostgreSQL crash: back {run['back_after']:.1f} s after the kill, sending resumed after "
          f"{run['resumed_after']:.1f} s, the fan-out finished after {run['finished_after']:.1f} s "
          f"({run['sent_before']} of {RECIPIENTS} sent before)")
    assert_exactly_once(run)


@pytest.mark.slow
def test_postgres_failover_to_a_streaming_replica_mid_fanout(redis_broker, tmp_path):
    with postgres_servers() as servers:
        servers.init("primary")
        servers.start("primary")
        servers.sql("primary", "CREATE DATABASE broadcaster")
        servers.replicate("primary", "replica")
        servers.start("replica")
        servers.synchronous("primary")
        wait_until(lambda: servers.sql("primary", "SELECT sync_state FROM pg_stat_replication") == "sync", 30,
                   "the replica to stream synchronously")
        url = servers.url("primary", "replica", database="broadcaster")
        migrate(url)

        def fail_over() -> None:
            servers.stop("primary", "immediate")  # the primary's machine is gone
            servers.promote("replica")  # what Patroni or an operator does

        run = fan_out_across(servers, url, redis_broker, tmp_path, fail_over)
        print(f"\nPostgreSQL failover: the replica promoted {run['back_after']:.1f} s after the primary died, "
              f"sending resumed after {run['resumed_after']:.1f} s, the fan-out finished after "
              f"{run['finished_after']:.1f} s ({run['sent_before']} of {RECIPIENTS} sent before)")
        assert servers.sql("replica", "SELECT pg_is_in_recovery()") == "f"
        # The writes after the failover are on the new primary: the last sends' outcomes are there.
        assert servers.sql("replica", "SELECT count(*) FROM deliveries WHERE status = 'sent'",
                           "broadcaster") == str(RECIPIENTS + LIVE_SENT)
        # The web app and the public surfaces of this process (whose pools held connections to the old
        # primary) answer from the new one.
        settings = run["settings"]
        with TestClient(create_app(settings)) as web, TestClient(create_public_app(settings)) as public:
            assert web.get("/healthz").status_code == 200
            banner = public.get("/banner.json")
            assert banner.status_code == 200 and "Some customers cannot log in" in banner.text, banner.text
        # And a use case after it (a new version drafted, submitted, approved) writes there too.
        started = time.monotonic()
        approved_statement(settings, "Logins work again for most customers", incident_id=_incident(settings, run))
        write_after = time.monotonic() - started
    print(f"PostgreSQL failover: the next version drafted, submitted and approved in {write_after:.2f} s")
    assert_exactly_once(run)


def _incident(settings, run) -> int:
    from broadcaster.store.db import transaction
    from broadcaster.store.models import Statement

    with transaction(settings.database_url) as s:
        return s.get(Statement, run["sid"]).incident_id
