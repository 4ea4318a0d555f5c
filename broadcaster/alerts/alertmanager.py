"""Prometheus Alertmanager's webhook (payload version 4), authenticated with the source's bearer token
as Alertmanager's `http_config: authorization: credentials: TOKEN` sends it. Grouped by `groupKey`;
each alert by its `fingerprint`."""

import hmac
import json

from ..domain.errors import InvalidInput, NotAllowed
from ..domain.hashing import sha256_hex
from .enums import AlertState
from .incoming import AlertIn, Notification, bounded, fingerprint_of, key, labels_of, mapping, state_of, time_of

VERSION = "4"


def verify_bearer(token_hash: str | None, authorization: str | None) -> None:
    """NotAllowed unless the Authorization header carries the source's token (`Bearer TOKEN`)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAllowed("no bearer token: set the source's token in the sender's authorization settings")
    if not token_hash or not hmac.compare_digest(sha256_hex(token.strip()), token_hash):
        raise NotAllowed("the bearer token is not this source's")


def verify(source, headers: dict[str, str], body: bytes) -> None:
    verify_bearer(source.token_hash, headers.get("authorization"))


def parse(body: bytes, version: str | None = VERSION) -> Notification:
    try:
        data = mapping(json.loads(body))
    except ValueError as exc:
        raise InvalidInput(f"body: not JSON: {exc}") from None
    if version is not None and str(data.get("version")) != version:
        raise InvalidInput(f"version: {str(data.get('version'))[:10]!r}; this receiver takes Alertmanager's "
                           f"webhook payload version {version}")
    return Notification(group_key=key(data.get("groupKey"), "groupKey"),
                        alerts=[alert_of(a, i) for i, a in enumerate(bounded(data.get("alerts") or []))])


def alert_of(raw: object, index: int) -> AlertIn:
    raw = mapping(raw, f"alerts.{index}")
    labels = labels_of(raw.get("labels"), f"alerts.{index}.labels")
    annotations = labels_of(raw.get("annotations"), f"alerts.{index}.annotations")
    return AlertIn(fingerprint=key(raw.get("fingerprint") or fingerprint_of(labels), f"alerts.{index}.fingerprint"),
                   status=state_of(raw.get("status", AlertState.FIRING.value), f"alerts.{index}.status"),
                   labels=labels, name=labels.get("alertname", "")[:200],
                   summary=annotations.get("summary") or annotations.get("description") or "",
                   starts_at=time_of(raw.get("startsAt"), f"alerts.{index}.startsAt"),
                   ends_at=time_of(raw.get("endsAt"), f"alerts.{index}.endsAt"))
