"""A statement in every language the installation speaks: its translations checked, its renditions
rendered and limit-checked per language, and what a preview says about each.

A statement is written in the installation's default language; a translation gives its headline,
body, workaround and resolution in another language the installation lists (`BROADCASTER_LOCALES`).
Each translation is rendered through the same templates, with that language's catalog and formats,
and checked against the channel limits on its own (a Japanese SMS is UCS-2, a Japanese post counts
double on X). A language without a translation falls back to the default language's renditions,
and the preview says so; a language the installation requires blocks submission until it is given.
"""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from .. import channels
from ..config import Settings
from ..domain import field_limits as limits
from ..domain.errors import InvalidInput
from ..domain.field_limits import Line, Text
from ..domain.locales import normalise_tag
from ..domain.notices import Notice, notice_of
from ..render import LimitCheck, render_statement
from ..render.languages import has_catalog, ivr_speech, language_name
from ..store.content import hashed_fields
from .audience_notes import template_values

TEXT_FIELDS = ("headline", "body", "workaround", "resolution")
MOST_TRANSLATIONS = 50


class TranslationInput(BaseModel):
    """A statement's words in one more language (all optional in an edit: the rest is kept)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    headline: Line(limits.HEADLINE) | None = None
    body: Text(limits.BODY) | None = None
    workaround: Text(limits.WORKAROUND) | None = None
    resolution: Line(limits.RESOLUTION) | None = None


def merge_translations(settings: Settings, given: dict[str, TranslationInput | None] | None,
                       inherited: dict[str, dict[str, str]] | None, texts: dict[str, str]) -> dict:
    """{locale: {headline, body, workaround, resolution}}: the base version's, with what was given over
    it (a language given as null is removed), each checked against the statement's own `texts`: a
    headline and a body always, a workaround and a resolution exactly when the statement has one."""
    merged = {tag: dict(words) for tag, words in (inherited or {}).items()}
    for raw, words in (given or {}).items():
        tag = normalise_tag(raw, f"translations.{raw}")
        if tag == settings.default_locale:
            raise InvalidInput(f"translations.{raw}: {tag} is the statement's own language; write it in the "
                               "statement's fields")
        if tag not in settings.locales:
            raise InvalidInput(f"translations.{raw}: {tag} is not one of this installation's languages "
                               f"({', '.join(settings.locales) or 'none'}); add it to BROADCASTER_LOCALES first")
        if words is None:
            merged.pop(tag, None)
            continue
        merged[tag] = {**merged.get(tag, {}), **words.model_dump(exclude_none=True)}
    if len(merged) > MOST_TRANSLATIONS:
        raise InvalidInput(f"translations: at most {MOST_TRANSLATIONS} languages, got {len(merged)}")
    return {tag: _checked(tag, words, texts) for tag, words in sorted(merged.items())}


def _checked(tag: str, words: dict[str, str], texts: dict[str, str]) -> dict[str, str]:
    """The translation's fields, in step with the statement's own: what one language says, all say
    (a field the statement has is required, one it does not have is dropped)."""
    kept = {}
    for name in TEXT_FIELDS:
        value = (words.get(name) or "").strip()
        if texts.get(name) and not value:
            raise InvalidInput(f"translations.{tag}.{name}: the statement has a {name} in its own language; "
                               f"give it in {tag} too (or remove the {tag} translation)")
        # A field the statement's own language no longer has (a workaround cleared, a resolution of a
        # version that is no longer resolved) goes in every language: a translation never says more.
        kept[name] = value if texts.get(name) else ""
    return kept


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def context(settings: Settings, statement: Any, locale: str, texts: dict[str, str], now: datetime) -> dict:
    """What the templates read: the hashed fields, the words in this language, and what the words
    are said about (the notice, the maintenance window, the span a resolved incident lasted)."""
    incident = statement.incident
    kind = getattr(incident, "kind", "incident")
    notice = notice_of(kind, statement.status)
    window = None
    if getattr(incident, "scheduled_for", None) and getattr(incident, "scheduled_until", None):
        window = (_aware(incident.scheduled_for), _aware(incident.scheduled_until))
    opened = _aware(getattr(incident, "created_at", None)) or now
    return {
        **hashed_fields(statement), **texts, **template_values(statement),
        "next_update": statement.next_update_at, "kind": kind, "notice": notice.value, "window": window,
        "affected_span": (min(opened, now), now) if notice is Notice.RESOLVED else None,
        "contact_centre_closed": bool(getattr(statement, "contact_centre_closed", False)),
        "company": settings.company_name, "status_url": settings.status_page_url,
        # In the reader's language: whoever signs up there gets their updates in it.
        "subscribe_url": settings.status_page_url.rstrip("/") + "/subscribe"
                         + ("" if locale == settings.default_locale else f"?lang={locale}"),
        "support_url": settings.support_url,
        "ivr_support_hint": settings.ivr_support_hints.get(locale, settings.ivr_support_hint),
        "speech_language": ivr_speech(settings, locale)[0],
        "tz": settings.zone, "now": now,  # for the clock filters: the zone, and what "today" is
    }


def own_texts(statement: Any) -> dict[str, str]:
    return {name: getattr(statement, name, "") or "" for name in TEXT_FIELDS}


def require_catalog(settings: Settings, locale: str) -> None:
    if locale != "en" and not has_catalog(settings.templates_dir, locale):
        raise InvalidInput(f"{locale}: this installation lists it, but {settings.templates_dir}/locale/"
                           f"{locale.replace('-', '_')}/LC_MESSAGES/messages.po does not exist: add the catalog "
                           "(see the docs: how to add a language)")


def render_all(settings: Settings, statement: Any, now: datetime) -> tuple[dict, dict]:
    """({channel: fields} in the statement's own language, {locale: {channel: fields}} per translation)."""
    own = render_in(settings, statement, statement.language, own_texts(statement), now)
    translated = {tag: render_in(settings, statement, tag, words, now)
                  for tag, words in sorted((statement.translations or {}).items())}
    return own, translated


def render_in(settings: Settings, statement: Any, locale: str, texts: dict[str, str], now: datetime) -> dict:
    require_catalog(settings, locale)
    return render_statement(settings.templates_dir, context(settings, statement, locale, texts, now),
                            channels.rendered_names(), locale)


def check_all(settings: Settings, own: dict, translated: dict) -> list[LimitCheck]:
    """Every limit of every channel in every language; a translation's checks name its locale."""
    checks = channels.check_limits(own, settings)
    for tag, renditions in translated.items():
        checks += [replace(check, locale=tag) for check in channels.check_limits(renditions, settings)]
    return checks


def missing_required(settings: Settings, statement: Any) -> list[str]:
    given = statement.translations or {}
    return [tag for tag in settings.required_locales if tag not in given]


def preview_languages(settings: Settings, translated: dict, checks: list[LimitCheck], required_missing: list[str],
                      given: dict) -> dict:
    """What the preview says per language: each translation's channels and limits, and each language
    with no translation: that it falls back to the default language, or blocks submission."""
    languages = {}
    for tag in settings.locales:
        if tag in translated:
            mine = [c for c in checks if c.locale == tag]
            languages[tag] = {"name": language_name(tag), "translated": True,
                              "channels": channel_views(translated[tag], mine), "ok": all(c.ok for c in mine)}
        else:
            languages[tag] = {"name": language_name(tag), "translated": False, "required": tag in required_missing,
                              "falls_back_to": settings.default_locale, "ok": tag not in required_missing}
    for tag in given:
        languages.setdefault(tag, {"name": language_name(tag), "translated": True, "ok": False,
                                   "problem": "no longer one of this installation's languages"})
    return languages


def channel_views(renditions: dict, checks: list[LimitCheck]) -> dict:
    return {channel: {**fields, "limits": [c.as_dict() for c in checks if c.channel == channel],
                      "ok": all(c.ok for c in checks if c.channel == channel)}
            for channel, fields in renditions.items()}
