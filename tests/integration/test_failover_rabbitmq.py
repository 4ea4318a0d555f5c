"""RabbitMQ with quorum queues, the other supported broker: a fan-out through real `celery worker`
processes on the shared server (a vhost of the tests' own), and a fan-out of 20,000 SMS across a
crash and restart of a RabbitMQ node of the test's own: nothing lost, nothing doubled. The rate
limiter, pace and locks stay on Redis (`BROADCASTER_REDIS_URL`), as the docs advise."""

import os
import time

import pytest

from broadcaster.delivery.broker import Queue
from broadcaster.delivery.enqueue import enqueue
from broadcaster.incidents import publishing
from tests.conftest import actor, fresh_database_url, make_settings
from tests.fakes.server import running_fake
from tests.integration.engine import (
    Workers,
    add_subscribers,
    approved_statement,
    as_env,
    provider_settings,
    settled,
    status_counts,
    wait_until,
)
from tests.integration.own_servers import rabbit_node
from tests.integration.recovery import (
    LIVE_SENT,
    QUICK_RECOVERY,
    UNCONFIGURED,
    fan_out_under_way,
    sent_exactly_once,
    until_settled,
)

AMQP_URL = os.environ.get("BROADCASTER_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/broadcaster-test")
RECIPIENTS = 20_000


def engine_values(database_url: str, broker_url: str, redis_url: str, fake_url: str) -> dict:
    return {"database_url": database_url, "broker_url": broker_url, "redis_url": redis_url,
            **provider_settings(fake_url), **QUICK_RECOVERY}


def declared_classic(url: str, queue: str) -> bool:
    """Whether the queue can be declared as a classic queue: RabbitMQ refuses (406) a queue that
    exists as a quorum queue."""
    import amqp
    import kombu

    with kombu.Connection(url) as connection:
        try:
            connection.default_channel.queue_declare(queue, durable=True, passive=False,
                                                     arguments={"x-queue-type": "classic"})
            return True
        except amqp.exceptions.PreconditionFailed:
            return False


@pytest.fixture
def shared_rabbitmq() -> str:
    import kombu

    try:
        with kombu.Connection(AMQP_URL, connect_timeout=3) as connection:
            connection.connect()
            for queue in Queue:  # this vhost is the tests' own: start from empty queues
                try:
                    connection.default_channel.queue_purge(queue.value)
                except Exception:  # noqa: BLE001 - not declared yet
                    connection.release()
                    connection.connect()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            raise
        pytest.skip(f"RabbitMQ not reachable at {AMQP_URL}: {exc}")
    return AMQP_URL


def test_a_fan_out_through_rabbitmq_quorum_queues(request, tmp_path, shared_rabbitmq, redis_broker):
    with running_fake() as fake:
        values = engine_values(fresh_database_url("postgresql", request, tmp_path), shared_rabbitmq, redis_broker,
                               fake.url)
        settings = make_settings(**values)
        pool = Workers(as_env(values), tmp_path)
        try:
            add_subscribers(settings, 300)
            pool.start(concurrency=2)
            sid = approved_statement(settings)
            publishing.publish(settings, actor(settings, "alice"), sid, dispatch=enqueue)
            wait_until(lambda: settled(settings, sid), 60, "the fan-out to settle", poll=0.25)
        finally:
            pool.stop_all()
        counts = fake.counts()
    assert sorted(counts["sms"].values()) == [1] * 300 and sorted(counts["email"].values()) == [1] * 300
    assert status_counts(settings, sid) == {"sent": 600 + LIVE_SENT, **UNCONFIGURED}
    assert not any(declared_classic(shared_rabbitmq, queue.value) for queue in Queue), "not quorum queues"


@pytest.mark.slow
def test_rabbitmq_crash_and_restart_mid_fanout_loses_and_doubles_nothing(request, tmp_path, redis_broker):
    with rabbit_node(tmp_path / "rabbitmq") as node, running_fake() as fake:
        values = engine_values(fresh_database_url("postgresql", request, tmp_path), node.url, redis_broker, fake.url)
        settings = make_settings(**values)
        with fan_out_under_way(settings, values, fake, tmp_path, RECIPIENTS, poll=0.2) as (pool, sid, sent):
            node.kill()
            killed_at, sent_at_kill = time.monotonic(), sent()
            assert sent_at_kill < RECIPIENTS * 0.8, "the kill came too late to test anything"
            node.start()
            back_after = time.monotonic() - killed_at
            resumed_after, finished_after = until_settled(settings, sid, sent, pool, killed_at)
        print(f"\nRabbitMQ crash: the node answered again {back_after:.1f} s after the SIGKILL, sending resumed "
              f"after {resumed_after:.1f} s, the fan-out finished {finished_after:.1f} s after it "
              f"({sent_at_kill} of {RECIPIENTS} sent at the kill)")
        sent_exactly_once(fake.counts()["sms"], RECIPIENTS)
        assert status_counts(settings, sid).get("sent") == RECIPIENTS + LIVE_SENT
        assert not declared_classic(node.url, Queue.BULK.value), "the bulk queue is not a quorum queue"
