"""How a broker URL is reached (a Redis, or the master behind Sentinels), what Celery is told for each
broker, and which database errors mean "the server went away"."""

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from broadcaster.delivery.broker import make_app, transport_options
from broadcaster.domain.errors import InvalidInput
from broadcaster.store import reconnect
from broadcaster.store.redis_clients import (
    broker_transport_options,
    sentinel_target,
    shared_redis_url,
    target_of,
    uses_redis,
)
from tests.conftest import make_settings

SENTINELS = "sentinel://:s3cret@10.0.0.1:26379;sentinel://10.0.0.2:26380;sentinel://10.0.0.3/2"


def test_a_sentinel_url_names_every_sentinel_the_database_and_the_masters_password():
    target = sentinel_target(SENTINELS, "broadcaster")
    assert target.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("10.0.0.3", 26379))
    assert target.master_options() == {"db": 2, "password": "s3cret"}
    assert target.master == "broadcaster"


@pytest.mark.parametrize("url, says", [
    ("sentinel://a:1", "BROADCASTER_REDIS_SENTINEL_MASTER"),
    ("sentinel://a:1;redis://b:2", "sentinel://host:port"),
    ("sentinel://a:port/0", "numbers"),
])
def test_a_wrong_sentinel_setting_is_one_clear_error(url, says):
    with pytest.raises(InvalidInput, match=says):
        sentinel_target(url, None if "MASTER" in says else "m")


def test_the_shared_redis_is_the_brokers_or_the_one_named_beside_rabbitmq():
    assert shared_redis_url(make_settings("sqlite://", broker_url="redis://r:6379/1")) == "redis://r:6379/1"
    assert shared_redis_url(make_settings("sqlite://", broker_url="amqp://guest@q//")) is None
    beside = make_settings("sqlite://", broker_url="amqp://guest@q//", redis_url="redis://r:6379/0")
    assert shared_redis_url(beside) == "redis://r:6379/0"
    assert shared_redis_url(make_settings("sqlite://")) is None  # embedded: memory
    with pytest.raises(InvalidInput, match="BROADCASTER_REDIS_URL"):
        shared_redis_url(make_settings("sqlite://", broker_url="amqp://q//", redis_url="amqp://q//"))
    assert uses_redis(SENTINELS) and not uses_redis("memory://") and not uses_redis("amqp://q//")


def test_celery_gets_the_master_name_behind_sentinel_and_confirms_and_quorum_queues_on_rabbitmq():
    sentinel = make_settings("sqlite://", broker_url=SENTINELS, redis_sentinel_master="broadcaster",
                             redis_sentinel_password="pw")
    options = transport_options(sentinel)
    assert options["master_name"] == "broadcaster" and options["sentinel_kwargs"]["password"] == "pw"
    assert options["visibility_timeout"] == 3600
    assert target_of(sentinel) == sentinel_target(SENTINELS, "broadcaster", "pw")
    assert broker_transport_options(make_settings("sqlite://", broker_url="redis://r//")) == {}

    rabbit = make_app(make_settings("sqlite://", broker_url="amqp://guest:guest@q:5672//"))
    assert rabbit.conf.task_default_queue_type == "quorum" and rabbit.conf.task_create_missing_queue_type == "quorum"
    assert rabbit.conf.worker_detect_quorum_queues and rabbit.conf.broker_transport_options == {"confirm_publish": True}
    classic = make_app(make_settings("sqlite://", broker_url="amqp://q//", broker_quorum_queues=False))
    assert classic.conf.task_default_queue_type == "classic"
    assert make_app(make_settings("sqlite://", broker_url="redis://r//")).conf.task_default_queue_type == "classic"


class _Orig(Exception):
    def __init__(self, sqlstate=None):
        super().__init__("boom")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("error, transient", [
    (OperationalError("SELECT 1", {}, _Orig()), True),  # could not connect at all
    (OperationalError("SELECT 1", {}, _Orig("57P01")), True),  # terminating connection: administrator command
    (ProgrammingError("UPDATE", {}, _Orig("25006")), True),  # read-only transaction: a standby
    (OperationalError("SELECT 1", {}, _Orig("53300")), False),  # too many connections: not a failover
    (IntegrityError("INSERT", {}, _Orig("23505")), False),  # a duplicate is the statement's fault
    (ValueError("no"), False),
])
def test_only_a_server_gone_or_not_primary_is_worth_a_retry(error, transient):
    assert reconnect.is_transient(error) is transient


def test_each_process_takes_its_retry_budget_from_its_settings():
    url = "postgresql+psycopg://u@/db?host=a:1&host=b:2&target_session_attrs=read-write"
    assert reconnect.budget(url) == reconnect.Budget()
    reconnect.configure(make_settings(url, database_retries=5, database_retry_seconds=7))
    assert reconnect.budget(url) == reconnect.Budget(5, 7.0)
    assert reconnect.fails_over(url) and not reconnect.fails_over("sqlite:///x.db")


def test_an_api_call_while_the_database_is_away_is_a_503_to_retry_not_a_500():
    from fastapi.testclient import TestClient

    from broadcaster.web.app import create_app
    from tests.integration.own_servers import free_port

    # Two hosts, neither listening: what the API sees between a primary's death and the promotion.
    url = (f"postgresql+psycopg://postgres@/db?host=127.0.0.1:{free_port()}&host=127.0.0.1:{free_port()}"
           "&target_session_attrs=read-write")
    settings = make_settings(url, database_retry_seconds=0.3)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/incidents", headers={"Authorization": "Bearer bc_nothing"})
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "5" and answer.headers["content-type"] == "application/problem+json"
    assert "failing over" in answer.json()["detail"]


def test_the_public_servers_requests_never_wait_for_the_database_the_full_apps_do():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    def app(never_wait: bool) -> FastAPI:
        made = FastAPI()
        made.get("/waits")(lambda: {"waits": reconnect.waits()})  # a sync route: run on a worker thread
        if never_wait:
            made.add_middleware(reconnect.NeverWait)
        return made

    assert TestClient(app(True)).get("/waits").json() == {"waits": False}
    assert TestClient(app(False)).get("/waits").json() == {"waits": True}
    assert reconnect.waits()
