"""Statement templates: add, change, remove, list, and start a statement from one.

Starting from a template opens an incident (its title and impact from the template) or adds a version to
an open one, and drafts the statement with the placeholders filled: components, start time, next-update
interval, and what the caller gives (`values`). The draft is checked, submitted and approved as any other.
"""

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..config import Settings
from ..domain import field_limits as limits
from ..domain.approval import Actor, require_role
from ..domain.clock import clock, duration, names
from ..domain.errors import InvalidInput, NameTaken, NotAllowed
from ..domain.field_limits import Line, Text
from ..domain.incident import NO_NEXT_UPDATE, Impact, IncidentStatus, parse_choice, parse_next_update
from ..domain.locales import normalise_tag
from ..incidents.statements import StatementInput, draft_in, open_in
from ..incidents.translations import MOST_TRANSLATIONS
from ..store.alert_models import AlertRule, StatementTemplate
from ..store.models import Incident, utcnow
from ..usecase import acting, get, log_action, unit_of_work
from . import placeholders
from .placeholders import Placeholder

WORDS = ("title", "headline", "body", "workaround", "resolution", "resolved_body")
TRANSLATED = ("headline", "body", "workaround", "resolution", "resolved_body")
MOST_VALUES = 20


# An interval from now ('30m', '1h', '1h30m', '90 min') or 'none', in any case: what `interval_of` reads.
NEXT_UPDATE_PATTERN = (r"^\s*(?:[Nn][Oo][Nn][Ee]|[0-9]{1,6}\s*[Hh](?:\s*[0-9]{1,6}\s*[Mm](?:[Ii][Nn])?)?"
                       r"|[0-9]{1,6}\s*[Mm](?:[Ii][Nn])?)\s*$")


class TemplateWords(BaseModel):
    """A template's words in one more language (the same placeholders, filled in that language)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    headline: Line(limits.HEADLINE, least=1)
    body: Text(limits.BODY, least=1)
    workaround: Text(limits.WORKAROUND) = ""
    resolution: Line(limits.RESOLUTION, least=1)
    resolved_body: Text(limits.BODY, least=1)


class TemplateInput(BaseModel):
    """A template as an author writes it (the API, the CLI's YAML file, the dashboard's form). The
    character rules are the statement's own (a title is a line, a body a text), so what a template
    fills in can be drafted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Line(limits.NAME, least=1)
    title: Line(limits.TITLE, least=1, description="The incident's title when opened")
    impact: Impact = Impact.MAJOR
    components: list[Line(limits.NAME, least=1)] = Field(default=[], max_length=50)
    headline: Line(limits.HEADLINE, least=1)
    body: Text(limits.BODY, least=1)
    workaround: Text(limits.WORKAROUND) = ""
    next_update: Annotated[str, Field(min_length=1, max_length=20, pattern=NEXT_UPDATE_PATTERN, description=(
        "An interval from 1 minute to 7 days ('30m', '1h', '1h30m'), or 'none'"))] = "30m"
    resolution: Line(limits.RESOLUTION, least=1, description="What a resolved statement from it says first")
    resolved_body: Text(limits.BODY, least=1, description=(
        "What a resolved statement from it says next (what was done); its workaround is cleared"))
    translations: dict[Line(limits.LOCALE, least=1), TemplateWords] = Field(
        default={}, max_length=MOST_TRANSLATIONS, description="{locale: {headline, body, workaround, resolution}}")

    @classmethod
    def parse(cls, data: Any, source: str) -> "TemplateInput":
        if not isinstance(data, dict):
            raise InvalidInput(f"{source}: expected a mapping of template fields, got {type(data).__name__}")
        if isinstance(data.get("impact"), str):  # a YAML file may say Major: the API's schema takes the word as is
            data = {**data, "impact": parse_choice(Impact, data["impact"], f"{source}: impact").value}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'template'}: {err['msg']}"
                                 for err in exc.errors())
            raise InvalidInput(f"{source}: {problems}") from None


def interval_of(next_update: str) -> timedelta | None:
    """'30m' → 30 minutes; 'none' → None; anything else is refused, saying what is accepted."""
    if next_update.strip().lower() == NO_NEXT_UPDATE:
        return None
    now = utcnow()
    try:
        if not re.match(NEXT_UPDATE_PATTERN, next_update):  # a time of day would be stale at the next use
            raise InvalidInput(next_update)
        return parse_next_update(next_update, now) - now
    except InvalidInput:
        raise InvalidInput(f"next_update: {next_update!r} is not an interval like '30m', '1h' or '1h30m' "
                           f"(from 1 minute to 7 days), nor '{NO_NEXT_UPDATE}'") from None


def _checked(settings: Settings, given: TemplateInput) -> dict:
    for field in WORDS:
        placeholders.check(field, getattr(given, field))
    translations = {}
    for raw, words in given.translations.items():
        tag = normalise_tag(raw, f"translations.{raw}")
        if tag == settings.default_locale or tag not in settings.locales:
            raise InvalidInput(f"translations.{raw}: not one of this installation's other languages "
                               f"({', '.join(t for t in settings.locales if t != settings.default_locale) or 'none'})")
        for field in TRANSLATED:
            placeholders.check(f"translations.{tag}.{field}", getattr(words, field))
        if bool(words.workaround) != bool(given.workaround):
            raise InvalidInput(f"translations.{tag}.workaround: give it exactly when the template has a workaround")
        translations[tag] = words.model_dump(mode="json")
    if interval_of(given.next_update) is None and any(
            Placeholder.NEXT_UPDATE.value in placeholders.named_in(getattr(given, f)) for f in WORDS):
        raise InvalidInput("next_update: the words promise {next_update}, so the template needs an interval "
                           "(e.g. 30m), not none")
    return {**given.model_dump(mode="json"), "translations": translations}


def add_template(settings: Settings, actor: Actor, given: TemplateInput) -> dict:
    values = _checked(settings, given)
    with acting(settings, actor, "manage templates") as s:
        template = StatementTemplate(**values, created_by_id=actor.id)
        s.add(template)
        _flush_unique(s, given.name)
        log_action(s, actor, "add template", f"template:{template.id}", {"name": template.name})
        return template_view(template)


def change_template(settings: Settings, actor: Actor, template_id: int, given: TemplateInput) -> dict:
    values = _checked(settings, given)
    with acting(settings, actor, "manage templates", f"template:{template_id}") as s:
        template = get(s, StatementTemplate, template_id, lock=True)
        for key, value in values.items():
            setattr(template, key, value)
        template.updated_at = utcnow()
        _flush_unique(s, given.name)
        log_action(s, actor, "change template", f"template:{template.id}", {"name": template.name})
        return template_view(template)


def remove_template(settings: Settings, actor: Actor, template_id: int) -> dict:
    with acting(settings, actor, "manage templates", f"template:{template_id}") as s:
        template = get(s, StatementTemplate, template_id, lock=True)
        rules = list(s.scalars(select(AlertRule.name).where(AlertRule.template_id == template.id)))
        if rules:
            raise NotAllowed(f"template {template.name!r} is used by the alert rule(s) {', '.join(rules)}: "
                             "change or remove them first")
        view = template_view(template)
        s.delete(template)
        log_action(s, actor, "remove template", f"template:{template_id}", {"name": view["name"]})
        return view


def _flush_unique(s: Session, name: str) -> None:
    try:
        s.flush()
    except IntegrityError:
        raise NameTaken(f"name: a template named {name!r} exists already") from None


def list_templates(settings: Settings) -> list[dict]:
    with unit_of_work(settings) as s:
        return [template_view(t) for t in s.scalars(select(StatementTemplate).order_by(StatementTemplate.name))]


def get_template(settings: Settings, template_id: int) -> dict:
    with unit_of_work(settings) as s:
        return template_view(get(s, StatementTemplate, template_id))


def template_named(settings: Settings, name_or_id: str) -> int:
    """A template's id from its name or its number (the CLI takes either)."""
    with unit_of_work(settings) as s:
        if name_or_id.isdigit():
            return get(s, StatementTemplate, int(name_or_id)).id
        found = s.scalar(select(StatementTemplate.id).where(StatementTemplate.name == name_or_id))
        if found is None:
            raise InvalidInput(f"template: no template named {name_or_id!r} (`broadcaster template list`)")
        return found


def start_statement(settings: Settings, actor: Actor, template_id: int, incident_id: int | None = None,
                    values: dict[str, str] | None = None, now: datetime | None = None) -> dict:
    """Draft a statement from the template: on incident `incident_id`, or on a new incident opened with
    the template's title, impact and components. `values` fill placeholders (over the computed ones)."""
    values = _given_values(values or {})
    now = now or utcnow()
    with acting(settings, actor, "draft", f"incident:{incident_id}" if incident_id else "") as s:
        template = get(s, StatementTemplate, template_id)
        if incident_id is None:
            require_role(actor, "open incident")
            incident = open_in(s, actor, placeholders.fill("title", template.title, {
                **context(settings, template, template.components, now, now), **values}),
                template.impact, template.components)
        else:
            incident = get(s, Incident, incident_id)
        # the template's words name its own components; the incident's when it names none
        return draft_from(s, settings, actor, template, incident, values, now,
                          components=list(template.components or incident.components or []))


def draft_from(s: Session, settings: Settings, actor: Actor, template: StatementTemplate, incident: Incident,
               values: dict[str, str], now: datetime, started_at: datetime | None = None,
               resolved: bool = False, detail: dict | None = None, components: list[str] | None = None) -> dict:
    """A draft on `incident` from `template`, in the caller's transaction: the firing words, or with
    `resolved` the template's resolution over the incident's latest words. `components`: the incident's
    unless given (an alert rule's incident was opened with the rule's)."""
    components = list(components or incident.components or template.components or [])
    filled = {**context(settings, template, components, started_at or now, now), **values}
    if resolved:
        given = _filled_input(template, status="resolved", next_update="none", workaround="",
                               resolution=placeholders.fill("resolution", template.resolution, filled),
                               body=placeholders.fill("resolved_body", template.resolved_body, filled),
                               translations=_translations(settings, template, incident, components, started_at or now,
                                                          now, values, ("resolution", "resolved_body")))
    else:
        latest = incident.statements[-1] if incident.statements else None
        reopened = latest is not None and latest.status == IncidentStatus.RESOLVED.value  # the firing words again
        given = _filled_input(
            template, status=IncidentStatus.INVESTIGATING.value if reopened else None, impact=incident.impact,
            components=components, next_update=template.next_update,
            translations=_translations(settings, template, incident, components, started_at or now, now, values,
                                       ("headline", "body", "workaround")),
            **{field: placeholders.fill(field, getattr(template, field), filled)
               for field in ("headline", "body", "workaround")})
    drafted = draft_in(s, settings, actor, incident, given, now, {"template": template.name, **(detail or {})})
    return {**drafted, "incident_id": incident.id, "template": template.name}


def _filled_input(template: StatementTemplate, **fields) -> StatementInput:
    """The statement's input from the filled words. A placeholder's value may make a field longer than
    a statement takes (a 100-character component name in a full headline): refused naming the field,
    as a typed statement would be, not a server error."""
    try:
        return StatementInput(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise InvalidInput(f"{problems} (the words of template {template.name!r} with its placeholders "
                           "filled)") from None


def _translations(settings: Settings, template: StatementTemplate, incident: Incident, components: list[str],
                  started_at: datetime, now: datetime, values: dict[str, str], fields: tuple[str, ...]) -> dict:
    """The template's words in each of its languages the installation still lists, filled in that language;
    a language the incident's latest version has and the template does not is dropped (its words would
    be another statement's)."""
    latest = incident.statements[-1] if incident.statements else None
    given: dict = {tag: None for tag in ((latest.translations or {}) if latest else {})}
    for tag, words in (template.translations or {}).items():
        if tag in settings.locales and tag != settings.default_locale:
            filled = {**context(settings, template, components, started_at, now, tag), **values}
            given[tag] = {field.replace("resolved_body", "body"): placeholders.fill(
                f"translations.{tag}.{field}", words.get(field, ""), filled) for field in fields if words.get(field)}
            if "resolved_body" in fields:
                given[tag]["workaround"] = ""
    return given or None


def context(settings: Settings, template: StatementTemplate, components: list[str], started_at: datetime,
            now: datetime, locale: str | None = None) -> dict[str, str]:
    """The computed placeholder values, in `locale` (default: the installation's language)."""
    locale = locale or settings.default_locale
    interval = interval_of(template.next_update)
    return {Placeholder.COMPONENTS.value: names(components, locale),
            Placeholder.STARTED_AT.value: clock(started_at, settings.zone, now, locale),
            Placeholder.NEXT_UPDATE.value: duration(interval, locale) if interval else ""}


def _given_values(values: dict[str, str]) -> dict[str, str]:
    if len(values) > MOST_VALUES:
        raise InvalidInput(f"values: at most {MOST_VALUES}, got {len(values)}")
    for name, value in values.items():
        if name not in placeholders.KNOWN:
            raise InvalidInput(f"values: unknown placeholder {name!r}; known: {', '.join(sorted(placeholders.KNOWN))}")
        if not isinstance(value, str) or len(value) > 500:
            raise InvalidInput(f"values.{name}: text of at most 500 characters")
    return {name: value.strip() for name, value in values.items()}


def template_view(template: StatementTemplate) -> dict:
    return {"id": template.id, "name": template.name, "title": template.title, "impact": template.impact,
            "components": list(template.components or []), "headline": template.headline, "body": template.body,
            "workaround": template.workaround, "next_update": template.next_update,
            "resolution": template.resolution, "resolved_body": template.resolved_body,
            "translations": dict(template.translations or {}),
            "placeholders": sorted({p for f in WORDS for p in placeholders.named_in(getattr(template, f))}),
            "updated_at": template.updated_at.isoformat()}


def editor_values(settings: Settings, template_id: int, components: list[str] | None = None) -> dict:
    # `components`: the incident's, for a template that names none
    """The editor's fields from a template, nothing saved: the computed placeholders filled (components,
    start time as now, next update), the others left in the words and named in `unfilled` for the author."""
    now = utcnow()
    with unit_of_work(settings) as s:
        template = get(s, StatementTemplate, template_id)
        chosen = list(template.components or components or [])
        filled = context(settings, template, chosen, now, now)
        words = {f: placeholders.fill_known(getattr(template, f), filled) for f in ("headline", "body", "workaround")}
        translated = {tag: {f: placeholders.fill_known(w.get(f, ""), context(settings, template, chosen, now, now, tag))
                            for f in ("headline", "body", "workaround")}
                      for tag, w in (template.translations or {}).items() if tag in settings.locales}
        unfilled = sorted({p for text in [*words.values(), *(v for w in translated.values() for v in w.values())]
                           for p in placeholders.named_in(text)})
        return {**words, "translations": translated, "impact": template.impact, "components": ", ".join(chosen),
                "status": "investigating", "next_update": template.next_update, "template": template.name,
                "unfilled": unfilled}
