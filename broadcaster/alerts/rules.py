"""Alert rules: which alerts open a draft, from which template, about which components, at which impact,
and who is told. Kept in the database, managed from the dashboard, the API and the CLI.

A rule matches an alert when every matcher does: `{"severity": "critical"}` needs that value,
`{"service": "login|sso"}` one of those, `{"team": "*"}` the label present. The first enabled rule by
position (then id) that matches any alert of a notification, from its source or from any, is the one.
A rule may name a pre-approved holding statement and a wait in minutes: when nobody has answered the
draft by then, the holding statement is switched on (both or neither; off unless set)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..config import Settings
from ..domain import field_limits as limits
from ..domain.approval import Actor, Role
from ..domain.errors import InvalidInput, NameTaken, NotAllowed, NotFound
from ..domain.field_limits import Line
from ..domain.incident import Impact
from ..domain.lifecycle import State
from ..store.access_models import HoldingStatement
from ..store.alert_models import AlertGroup, AlertRule, AlertSource, StatementTemplate
from ..store.models import User
from ..usecase import acting, get, log_action, unit_of_work
from .incoming import Notification

ANY = "*"
Short = Line(limits.NAME, least=1)
# Both or neither (a holding statement and the wait before it is switched on), as _values checks it.
_HOLDING_BOTH_OR_NEITHER = {"anyOf": [
    {"properties": {"holding": {"type": "integer"}, "holding_after_minutes": {"type": "integer"}},
     "required": ["holding", "holding_after_minutes"]},
    {"properties": {"holding": {"type": "null"}, "holding_after_minutes": {"type": "null"}}},
]}


class RuleInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=_HOLDING_BOTH_OR_NEITHER)

    name: Short
    template: Annotated[Short, Field(description="The template's name or number")]
    matchers: dict[Short, Line(500, least=1)] = Field(
        default={}, max_length=20, description="{label: value, 'a|b' for either, '*' for present}; none: every alert")
    components: list[Short] = Field(default=[], max_length=50, description="None: the template's")
    impact: Annotated[Impact | None, Field(description="None: the template's")] = None
    source: Annotated[Line(50) | None, Field(description="Only this source's alerts; none or '': any")] = None
    notify: list[Short] = Field(default=[], max_length=50,
                                description="User names to tell; none: every author and approver")
    holding: Annotated[int | None, Field(ge=1, le=2**31 - 1, description=(
        "A holding statement's number (with holding_after_minutes)"))] = None
    holding_after_minutes: Annotated[int | None, Field(ge=1, le=1440)] = None
    position: Annotated[int, Field(ge=0, le=10_000)] = 100
    enabled: bool = True


def matches(matchers: dict[str, str], labels: dict[str, str]) -> bool:
    for name, wanted in matchers.items():
        if name not in labels:
            return False
        if wanted != ANY and labels[name] not in wanted.split("|"):
            return False
    return True


def first_match(s: Session, source_id: int, notification: Notification) -> AlertRule | None:
    rules = s.scalars(select(AlertRule).where(AlertRule.enabled.is_(True),
                                              (AlertRule.source_id.is_(None)) | (AlertRule.source_id == source_id))
                      .order_by(AlertRule.position, AlertRule.id))
    return next((rule for rule in rules if any(matches(rule.matchers or {}, a.labels) for a in notification.alerts)),
                None)


def _values(s: Session, given: RuleInput) -> dict:
    template = _template(s, given.template)
    source_id = None
    if given.source:
        source_id = s.scalar(select(AlertSource.id).where(AlertSource.name == given.source))
        if source_id is None:
            raise InvalidInput(f"source: no alert source named {given.source!r} (`broadcaster alert source list`)")
    if (given.holding is None) != (given.holding_after_minutes is None):
        raise InvalidInput("holding: give both the holding statement's number and holding_after_minutes, or neither")
    if given.holding is not None:
        holding = s.get(HoldingStatement, given.holding)
        if holding is None or holding.statement.state != State.APPROVED.value:
            raise InvalidInput(f"holding: {given.holding} is not a holding statement ready to switch on "
                               "(`broadcaster holding list`)")
    return {"name": given.name, "template_id": template.id, "matchers": dict(given.matchers),
            "components": list(given.components),
            "impact": given.impact.value if given.impact else None,
            "source_id": source_id, "notify": _people(s, given.notify), "holding_id": given.holding,
            "holding_after_minutes": given.holding_after_minutes, "position": given.position,
            "enabled": given.enabled}


def _template(s: Session, name_or_id: str) -> StatementTemplate:
    found = s.get(StatementTemplate, int(name_or_id)) if name_or_id.isdigit() and len(name_or_id) < 10 else \
        s.scalar(select(StatementTemplate).where(StatementTemplate.name == name_or_id))
    if found is None:
        raise InvalidInput(f"template: no template {name_or_id!r} (`broadcaster template list`)")
    return found


def _people(s: Session, names: list[str]) -> list[int]:
    ids = []
    for name in names:
        user = s.scalar(select(User).where(User.name == name))
        if user is None:
            raise InvalidInput(f"notify: no user named {name!r}")
        if not {Role.AUTHOR.value, Role.APPROVER.value, Role.ADMIN.value} & set(user.role_list):
            raise InvalidInput(f"notify: {name} is neither an author nor an approver, and could not act on a draft")
        ids.append(user.id)
    return list(dict.fromkeys(ids))


def add_rule(settings: Settings, actor: Actor, given: RuleInput) -> dict:
    """A new rule; its drafts are written in the name of `actor`, who must be allowed to draft."""
    with acting(settings, actor, "manage alert rules") as s:
        rule = AlertRule(**_values(s, given), created_by_id=actor.id)
        s.add(rule)
        _flush_unique(s, given.name)
        log_action(s, actor, "add alert rule", f"alert-rule:{rule.id}", {"name": rule.name})
        return rule_view(s, rule)


def change_rule(settings: Settings, actor: Actor, rule_id: int, given: RuleInput) -> dict:
    with acting(settings, actor, "manage alert rules", f"alert-rule:{rule_id}") as s:
        rule = get(s, AlertRule, rule_id, lock=True)
        for column, value in _values(s, given).items():
            setattr(rule, column, value)
        _flush_unique(s, given.name)
        log_action(s, actor, "change alert rule", f"alert-rule:{rule.id}", {"name": rule.name})
        return rule_view(s, rule)


def remove_rule(settings: Settings, actor: Actor, rule_id: int) -> dict:
    with acting(settings, actor, "manage alert rules", f"alert-rule:{rule_id}") as s:
        rule = get(s, AlertRule, rule_id, lock=True)
        if s.scalar(select(func.count()).select_from(AlertGroup).where(AlertGroup.rule_id == rule.id)):
            raise NotAllowed(f"rule {rule.name!r} has alerts on record: disable it instead (enabled: false)")
        view = rule_view(s, rule)
        s.delete(rule)
        log_action(s, actor, "remove alert rule", f"alert-rule:{rule_id}", {"name": view["name"]})
        return view


def _flush_unique(s: Session, name: str) -> None:
    try:
        s.flush()
    except IntegrityError:
        raise NameTaken(f"name: a rule named {name!r} exists already") from None


def list_rules(settings: Settings) -> list[dict]:
    with unit_of_work(settings) as s:
        return [rule_view(s, r) for r in s.scalars(select(AlertRule).order_by(AlertRule.position, AlertRule.id))]


def get_rule(settings: Settings, rule_id: int) -> dict:
    with unit_of_work(settings) as s:
        return rule_view(s, get(s, AlertRule, rule_id))


def rule_named(settings: Settings, name_or_id: str) -> int:
    with unit_of_work(settings) as s:
        if name_or_id.isdigit() and len(name_or_id) < 10:
            return get(s, AlertRule, int(name_or_id)).id
        found = s.scalar(select(AlertRule.id).where(AlertRule.name == name_or_id))
        if found is None:
            raise NotFound(f"alert rule {name_or_id[:100]!r} does not exist (`broadcaster alert rule list`)")
        return found


def rule_view(s: Session, rule: AlertRule) -> dict:
    people = list(s.scalars(select(User.name).where(User.id.in_(rule.notify or [])).order_by(User.name))) \
        if rule.notify else []
    return {"id": rule.id, "name": rule.name, "position": rule.position, "enabled": rule.enabled,
            "source": rule.source.name if rule.source else None, "matchers": dict(rule.matchers or {}),
            "template": rule.template.name, "template_id": rule.template_id,
            "components": list(rule.components or []) or list(rule.template.components or []),
            "impact": rule.impact or rule.template.impact, "notify": people,
            "holding": rule.holding_id, "holding_after_minutes": rule.holding_after_minutes,
            "written_as": rule.created_by.name}
