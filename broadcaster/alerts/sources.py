"""Alert sources: the monitoring systems allowed to post to `/webhooks/alerts/NAME`. Adding one (or
rotating it) gives its credential once: a bearer token for Alertmanager and Grafana (only its SHA-256
is kept), a `whsec_` secret for a generic source; a PagerDuty source keeps the secret PagerDuty showed
when its webhook subscription was made. Managing sources is an admin's (a source opens drafts)."""

import base64
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from ..config import Settings
from ..delivery.links import site
from ..domain.approval import Actor
from ..domain.errors import InvalidInput, NameTaken, NotAllowed, NotFound
from ..domain.hashing import sha256_hex
from ..domain.incident import parse_choice
from ..store.alert_models import AlertGroup, AlertRule, AlertSource
from ..usecase import acting, log_action, unit_of_work
from . import alertmanager, generic, grafana, pagerduty
from .enums import BEARER_KINDS, SourceKind

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,49}$"  # as it appears in the URL
NAME = re.compile(NAME_PATTERN)
# A PagerDuty signing secret as PagerDuty shows it: printable ASCII, no spaces (the API's schema states it).
SECRET_PATTERN = r"^[\x21-\x7e]{1,200}$"
SECRET = re.compile(SECRET_PATTERN)
RECEIVERS = {SourceKind.ALERTMANAGER: alertmanager, SourceKind.GRAFANA: grafana, SourceKind.PAGERDUTY: pagerduty,
             SourceKind.GENERIC: generic}


@dataclass(frozen=True)
class Source:
    """What a request is checked against (read once, outside any transaction)."""
    id: int
    name: str
    kind: SourceKind
    token_hash: str | None
    secret: str | None


def _credential(kind: SourceKind, secret: str | None) -> tuple[dict, dict]:
    """(the columns to store, what the caller is shown once)."""
    if kind in BEARER_KINDS:
        if secret:
            raise InvalidInput(f"secret: a {kind} source authenticates with a token made here; give no secret")
        token = secrets.token_urlsafe(32)
        return {"token_hash": sha256_hex(token), "secret": None}, {"token": token}
    if kind == SourceKind.PAGERDUTY:
        if not secret or not SECRET.match(secret):
            raise InvalidInput("secret: required for a PagerDuty source: the signing secret PagerDuty showed when "
                               "the webhook subscription was created (printable ASCII, no spaces, at most 200)")
        return {"token_hash": None, "secret": secret}, {}
    if secret:
        raise InvalidInput("secret: a generic source's secret is made here; give none")
    made = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    return {"token_hash": None, "secret": made}, {"secret": made}


def add_source(settings: Settings, actor: Actor, name: str, kind: str, secret: str | None = None) -> dict:
    """A new source; the answer holds its token or secret, shown this once."""
    if not NAME.match(name or ""):
        raise InvalidInput(f"name: {name[:60]!r} is not a source name: lower-case letters, digits and '-', at "
                           "most 50, as it appears in the URL")
    chosen = parse_choice(SourceKind, kind, "kind")
    stored, shown = _credential(chosen, secret)
    with acting(settings, actor, "manage alert sources") as s:
        if s.scalar(select(AlertSource.id).where(AlertSource.name == name)) is not None:
            raise NameTaken(f"name: a source named {name!r} exists already")
        source = AlertSource(name=name, kind=chosen.value, created_by_id=actor.id, **stored)
        s.add(source)
        s.flush()
        log_action(s, actor, "add alert source", f"alert-source:{source.id}", {"name": name, "kind": chosen.value})
        return {**source_view(settings, source), **shown}


def rotate(settings: Settings, actor: Actor, name: str, secret: str | None = None) -> dict:
    """A new token or secret for the source (the old one stops working at once), shown this once."""
    with acting(settings, actor, "manage alert sources", f"alert-source:{name[:50]}") as s:
        source = _named(s, name)
        stored, shown = _credential(SourceKind(source.kind), secret)
        for column, value in stored.items():
            setattr(source, column, value)
        log_action(s, actor, "rotate alert source", f"alert-source:{source.id}", {"name": name})
        return {**source_view(settings, source), **shown}


def remove_source(settings: Settings, actor: Actor, name: str) -> dict:
    with acting(settings, actor, "manage alert sources", f"alert-source:{name[:50]}") as s:
        source = _named(s, name)
        used = s.scalar(select(func.count()).select_from(AlertGroup).where(AlertGroup.source_id == source.id))
        rules = list(s.scalars(select(AlertRule.name).where(AlertRule.source_id == source.id)))
        if used or rules:
            raise NotAllowed(f"source {name!r} has " + (f"{used} alert group(s) on record" if used else
                                                        f"rules ({', '.join(rules)})")
                             + ": rotate its credential to shut it out instead (`broadcaster alert source rotate`)")
        view = source_view(settings, source)
        s.delete(source)
        log_action(s, actor, "remove alert source", f"alert-source:{view['id']}", {"name": name})
        return view


def list_sources(settings: Settings) -> list[dict]:
    with unit_of_work(settings) as s:
        return [source_view(settings, x) for x in s.scalars(select(AlertSource).order_by(AlertSource.name))]


def source_named(settings: Settings, name: str) -> Source | None:
    if not NAME.match(name or ""):
        return None
    with unit_of_work(settings) as s:
        row = s.scalar(select(AlertSource).where(AlertSource.name == name))
        return Source(row.id, row.name, SourceKind(row.kind), row.token_hash, row.secret) if row else None


def _named(s, name: str) -> AlertSource:
    row = s.scalar(select(AlertSource).where(AlertSource.name == name).with_for_update())
    if row is None:
        raise NotFound(f"alert source {name[:50]!r} does not exist (`broadcaster alert source list`)")
    return row


def source_view(settings: Settings, source: AlertSource) -> dict:
    return {"id": source.id, "name": source.name, "kind": source.kind,
            "url": f"{site(settings)}/webhooks/alerts/{source.name}",
            "last_received_at": source.last_received_at.isoformat() if source.last_received_at else None}
