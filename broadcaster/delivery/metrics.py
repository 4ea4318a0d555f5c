"""Prometheus instruments.

Two kinds of numbers, because sends happen in worker processes the web app cannot see:
- in-process instruments (a counter of delivery outcomes, a histogram of provider latency),
  exposed by each worker (`start_worker_metrics`) and by the web app for the callbacks it handles;
- the fleet's state, read from the database at scrape time (`DeliveryStateCollector`), so one
  scrape of the web app's /metrics shows every delivery's status whichever process sent it.
"""

import functools
import logging

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

logger = logging.getLogger("broadcaster.delivery.metrics")

DELIVERIES = Counter("broadcaster_deliveries_total", "Delivery status changes made by this process",
                     ["channel", "provider", "status"])
LATENCY = Histogram("broadcaster_provider_latency_seconds", "Provider call latency", ["provider"])

# Not "broadcaster_deliveries": the counter above already owns that family name (the client
# strips "_total"), and two TYPE lines for one name make the whole scrape unparseable.
DELIVERY_STATE = "broadcaster_deliveries_by_status"
DATABASE_UP = "broadcaster_metrics_database_up"
CHANNEL_PAUSED = "broadcaster_channel_paused"


# The labelled children, looked up once: `labels()` takes a lock and builds a key on every call,
# and these are called once a message.
_counter = functools.cache(DELIVERIES.labels)
_latency = functools.cache(LATENCY.labels)


def count_delivery(channel: str, provider: str, status: str, n: int = 1) -> None:
    _counter(channel, provider, status).inc(n)


def observe_latency(provider: str, seconds: float) -> None:
    _latency(provider).observe(seconds)


def start_worker_metrics(settings) -> None:
    """Each worker serves its own counters; Prometheus scrapes every worker."""
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port)


class DeliveryStateCollector:
    """Deliveries per channel and status, counted in the database when Prometheus scrapes."""

    def __init__(self, database_url: str):
        self.database_url = database_url

    def describe(self):
        # Registration must not touch the database.
        return [GaugeMetricFamily(DELIVERY_STATE, "Deliveries in the database, by channel and status",
                                  labels=["channel", "status"])]

    def collect(self):
        from ..store.db import engine_for
        from ..store.models import ChannelPause, Delivery

        gauge = GaugeMetricFamily(DELIVERY_STATE, "Deliveries in the database, by channel and status",
                                  labels=["channel", "status"])
        up = GaugeMetricFamily(DATABASE_UP, "1 if the delivery counts could be read from the database")
        try:
            with engine_for(self.database_url).connect() as connection:
                rows = connection.execute(select(Delivery.channel, Delivery.status, func.count())
                                          .group_by(Delivery.channel, Delivery.status)).all()
                paused = connection.execute(select(ChannelPause.channel, ChannelPause.reason)).all()
        except Exception as exc:  # noqa: BLE001 - a scrape that fails loses the process counters too
            logger.warning("metrics: cannot count deliveries in the database: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        for channel, status, count in rows:
            gauge.add_metric([channel, status], count)
        up.add_metric([], 1)
        yield gauge
        yield up
        # A channel whose provider refused our credentials: its deliveries wait, and this says why.
        pauses = GaugeMetricFamily(CHANNEL_PAUSED, "1 while a channel is paused (credentials refused)",
                                   labels=["channel", "reason"])
        for channel, reason in paused:
            pauses.add_metric([channel, reason[:200]], 1)
        yield pauses


class _Exposition:
    """This process's registry and the database's counts, as one scrape."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def exposition(database_url: str) -> tuple[bytes, str]:
    """The /metrics body and its content type."""
    return generate_latest(_Exposition(REGISTRY, DeliveryStateCollector(database_url))), CONTENT_TYPE_LATEST
