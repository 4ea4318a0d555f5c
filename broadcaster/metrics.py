"""Prometheus instruments (placeholder until the API lands: same helper names)."""

from prometheus_client import Counter, Histogram

DELIVERIES = Counter("broadcaster_deliveries_total", "Delivery outcomes", ["channel", "provider", "status"])
LATENCY = Histogram("broadcaster_provider_latency_seconds", "Provider call latency", ["provider"])


def count_delivery(channel: str, provider: str, status: str, n: int = 1) -> None:
    DELIVERIES.labels(channel, provider, status).inc(n)


def observe_latency(provider: str, seconds: float) -> None:
    LATENCY.labels(provider).observe(seconds)


def start_worker_metrics(settings) -> None:
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port)
