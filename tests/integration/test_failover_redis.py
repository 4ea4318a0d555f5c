"""Redis behind Sentinel: the master SIGKILLed in the middle of a fan-out of 20,000 SMS through real
`celery worker` processes. The replica is promoted, sending resumes within 30 s, and every recipient
gets exactly one message (the fake provider counts them)."""

import time

import pytest

from broadcaster.delivery import sendlog
from tests.conftest import fresh_database_url, make_settings
from tests.fakes.server import running_fake
from tests.integration.engine import provider_settings, status_counts, wait_until
from tests.integration.own_servers import sentinel_set
from tests.integration.recovery import LIVE_SENT, QUICK_RECOVERY, fan_out_under_way, sent_exactly_once, until_settled

RECIPIENTS = 20_000


@pytest.mark.slow
def test_sentinel_failover_mid_fanout_loses_and_doubles_nothing(request, tmp_path):
    with sentinel_set(tmp_path) as redis_servers, running_fake() as fake:
        values = {"database_url": fresh_database_url("postgresql", request, tmp_path),
                  "broker_url": redis_servers.url, "redis_sentinel_master": redis_servers.master_name,
                  **provider_settings(fake.url), **QUICK_RECOVERY}
        settings = make_settings(**values)
        with fan_out_under_way(settings, values, fake, tmp_path, RECIPIENTS, poll=0.2) as (pool, sid, sent):
            old_master = redis_servers.kill_master()
            killed_at, sent_at_kill = time.monotonic(), sent()
            assert sent_at_kill < RECIPIENTS * 0.8, "the kill came too late to test anything"

            wait_until(lambda: redis_servers.master_port() not in (None, old_master), 30, "a replica promoted",
                       poll=0.1)
            promoted_after = time.monotonic() - killed_at
            # Counted from the promotion on: what was on its way at the kill has arrived by now, or is lost.
            resumed_after, finished_after = until_settled(settings, sid, sent, pool, killed_at)
        print(f"\nSentinel failover: replica promoted {promoted_after:.1f} s after the SIGKILL, sending resumed "
              f"after {resumed_after:.1f} s, the fan-out finished {finished_after:.1f} s after it "
              f"({sent_at_kill} of {RECIPIENTS} sent at the kill)")
        sent_exactly_once(fake.counts()["sms"], RECIPIENTS)
        assert resumed_after is not None and resumed_after < 30, (promoted_after, resumed_after)
        assert status_counts(settings, sid).get("sent") == RECIPIENTS + LIVE_SENT
        assert len(sendlog.send_log(settings, statement_id=sid, channel="sms", status="sent",
                                    limit=RECIPIENTS * 2)) == RECIPIENTS
