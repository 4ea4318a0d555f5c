"""Grafana's webhook contact point: Alertmanager's shape (groupKey, alerts with fingerprints, labels and
annotations) with Grafana's own version and fields, authenticated with the source's token in the
contact point's Authorization header (scheme Bearer)."""

from . import alertmanager
from .incoming import Notification


def verify(source, headers: dict[str, str], body: bytes) -> None:
    alertmanager.verify_bearer(source.token_hash, headers.get("authorization"))


def parse(body: bytes) -> Notification:
    return alertmanager.parse(body, version=None)  # Grafana says version "1": the shape is what counts
