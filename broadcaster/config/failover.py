"""Settings of the parts Broadcaster stands on failing over: Redis Sentinel, RabbitMQ's quorum queues,
PostgreSQL's multi-host connection strings (see docs/operations/failover.md)."""

from pydantic import Field
from pydantic_settings import BaseSettings


class FailoverSettings(BaseSettings):
    redis_url: str | None = Field(None, description=(
        "The Redis of the fleet-wide rate limits, locks and counters when the broker is not Redis (RabbitMQ): "
        "`redis://host:6379/0`, or Sentinels as in `broker_url`. Unset with a Redis broker: the broker's. "
        "Unset with RabbitMQ: each process keeps its own, and the fleet may exceed a provider's rate."))
    redis_sentinel_master: str | None = Field(None, description=(
        "The Sentinel master name (`monitor <name>` in sentinel.conf), needed when `broker_url` names "
        "Sentinels: `sentinel://h1:26379;sentinel://h2:26379;sentinel://h3:26379/0`. The broker, the rate "
        "limiter, the locks and every counter then follow the master Sentinel names."))
    redis_sentinel_password: str | None = Field(None, description=(
        "Password of the Sentinels themselves (their `requirepass`), when they have one; the master's "
        "password goes in the URL (`sentinel://:password@h1:26379;...`)."))
    broker_quorum_queues: bool = Field(True, description=(
        "With a RabbitMQ broker (`amqp://`), declare every queue as a quorum queue (replicated, durable, "
        "with publisher confirms). Turn off only for a RabbitMQ older than 3.8."))
    database_retries: int = Field(3, ge=0, le=10, description=(
        "How often a transaction the database dropped (a failover, a restart) is tried again, "
        "on a fresh connection, before the error is the caller's."))
    database_retry_seconds: float = Field(20.0, gt=0, le=300, description=(
        "How long those retries may take in all: about what a PostgreSQL failover takes."))
