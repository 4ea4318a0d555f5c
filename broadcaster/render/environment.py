"""The Jinja environment (one per language), and rendering a statement through every channel's templates.

Each registered channel has a folder in ``templates/``; each file in it is one field of that
channel's rendition (``email/subject.txt`` → ``email["subject"]``). Plain-text
fields render first, so markup fields can wrap them: ``ivr/twiml.xml`` says
``{{ this.script }}``, escaped for XML. Only ``.html`` and ``.xml`` autoescape:
an SMS must show ``<script>`` as the customer typed it, a web page must not run it.
A template that renders to nothing adds no field (``sms/followup.txt`` speaks only on a
resolved incident).

The fixed phrases are gettext messages (``{% trans %}``, ``_()``) from the language's catalog
(``render/languages.py``); times, spans, durations and lists are formatted in that language by
the filters below (``domain/clock.py``, CLDR through Babel).
"""

import json
import re
import sys
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.support import NullTranslations
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ..domain import clock as domain_clock
from ..domain.errors import BroadcasterError
from ..domain.locales import plural_category
from .compiled_phrases import CatalogCodeGenerator
from .languages import CATALOGS, direction, translations
from .notice_words import NoticeWords, said

MARKUP_SUFFIXES = (".html", ".xml")


class TemplateProblem(BroadcasterError):
    def __init__(self, template: str, message: str, line: int | None = None):
        where = f"template {template}" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {message}")
        self.template = template
        self.line = line


# Where a sentence ends with something other than ".": the full stop of languages written without spaces.
FULL_STOPS = {"ja": "。", "zh": "。"}
SENTENCE_ENDS = ".!?。！？"


def sentence(value: str, locale: str = "en") -> str:
    """End a phrase with a full stop unless it already ends a sentence."""
    value = value.strip()
    if not value or value[-1] in SENTENCE_ENDS:
        return value
    return value + FULL_STOPS.get(locale.split("-")[0], ".")


def _zone(value: Any) -> tzinfo:
    """The context's ``tz``: a ZoneInfo, or its key ('America/New_York')."""
    return value if isinstance(value, tzinfo) else ZoneInfo(str(value))


def _resolve(context: Context, *names: str) -> list[Any]:
    """The context's values; a missing one is an undefined-variable error naming it."""
    values = [context.resolve(name) for name in names]
    for name, given in zip(names, values, strict=True):
        if isinstance(given, Undefined):
            raise UndefinedError(f"'{name}' is undefined")
    return values


def _time_filter(format_time: Callable[..., str], locale: str) -> Callable:
    """A filter that formats a datetime in the context's zone (``tz``), relative to its ``now``,
    in the environment's language."""
    @pass_context
    def time_filter(context: Context, value: datetime | None, dated: bool = False) -> str:
        if not value:
            return ""
        zone, now = _resolve(context, "tz", "now")
        return _formatted(format_time, value, _zone(zone), now, locale, dated)
    return time_filter


@lru_cache(maxsize=4096)
def _formatted(format_time: Callable[..., str], value: datetime, zone: tzinfo, now: datetime, locale: str,
               dated: bool) -> str:
    """A time as `format_time` says it, worked out once (CLDR's patterns through Babel) for the
    several templates of a statement that say it: the next update's time is in five of them."""
    return format_time(value, zone, now, locale, dated=dated)


@lru_cache(maxsize=1024)
def _names(items: tuple[str, ...], locale: str) -> str:
    """'Login, API, and Billing', once per list and language (Babel's list patterns are slow to look up)."""
    return domain_clock.names(list(items), locale)


def _for_sms(context: Context, text: str) -> str:
    """A template that sets `gsm` (an SMS) gets CLDR's en dash as a hyphen: GSM-7 has no en dash,
    and one character outside it makes the whole text UCS-2, halving what a segment holds. (That is
    all `gsm` changes: notice_words.py says a phrase without an en dash the same way in an SMS.)"""
    return text.replace("\u2013", "-") if context.get("gsm") else text


def escaped(value: Any) -> Markup:
    """A phrase from templates/_words/ (plain text: shared with the SMS and the IVR), escaped for an
    HTML template. A macro from a text template comes back marked safe though nothing in it was
    escaped: every HTML template passes one through this."""
    return escape(str(value))


def _filters(locale: str) -> dict[str, Callable]:
    @pass_context
    def span(context: Context, ends: tuple | None, day: bool = True, utc: bool = False) -> str:
        """(start, end) → 'Sun, Nov 29, 02:00 – 04:00 EST'; day=False within today: '14:02 – 14:40 EST';
        utc=True: the same span in UTC, its date only where it differs from the local one ('' when
        the zone is UTC already: nothing to add)."""
        if not ends or not ends[0] or not ends[1]:
            return ""
        zone, now = _resolve(context, "tz", "now")
        zone = _zone(zone)
        if utc:
            if domain_clock.abbreviation(ends[0], zone) == "UTC" == domain_clock.abbreviation(ends[1], zone):
                return ""
            same_days = all(end.astimezone(zone).date() == end.astimezone(UTC).date() for end in ends)
            return _for_sms(context, domain_clock.window(ends[0], ends[1], UTC, now, locale, day=not same_days))
        if not day:  # the times alone only where the day goes without saying: today
            day = domain_clock.localise(ends[0], zone, now).day != "today"
        return _for_sms(context, domain_clock.window(ends[0], ends[1], zone, now, locale, day=day))

    @pass_context
    def spoken_time(context: Context, value: datetime | None) -> str:
        return domain_clock.spoken_time(value, _zone(_resolve(context, "tz")[0]), locale) if value else ""

    @pass_context
    def stamp(context: Context, value: datetime | None) -> str:
        return domain_clock.stamp(value, _zone(_resolve(context, "tz")[0]), locale) if value else ""

    def duration(span: tuple | timedelta | None) -> str:
        """(start, end) or a timedelta → '38 minutes', '1 hour and 40 minutes', '2 hours'."""
        if isinstance(span, timedelta):
            return domain_clock.duration(span, locale)
        return domain_clock.duration(span[1] - span[0], locale) if span and span[0] and span[1] else ""

    return {
        "clock": _time_filter(domain_clock.clock, locale),  # '13:25 EST', 'tomorrow at 13:25 EST'
        "spoken_clock": _time_filter(domain_clock.spoken_clock, locale),  # 'tomorrow at 1:25 PM EST'
        "spoken_day": _time_filter(domain_clock.spoken_day, locale),  # 'today', 'Sunday, November 29'
        "date": _time_filter(domain_clock.date, locale),  # 'Sun, Nov 29'
        "stamp": stamp,  # 'Nov 23, 2026, 14:05 UTC'
        "spoken_time": spoken_time, "span": span, "duration": duration,
        "names": lambda items: _names(tuple(items or ()), locale),  # 'Login, API, and Billing'
        "sentence": lambda value: sentence(value, locale), "escaped": escaped,
        "said": said,  # words.titled() as the compiler writes it: compiled_phrases.py
        "tojson": _tojson,
        # '1 statement waits', '2 statements wait': the form CLDR's plural rule picks (operators' pages).
        "plural": lambda count, one, other: f"{count} {one if plural_category(count, locale) == 'one' else other}",
    }


def _gettext(catalog: NullTranslations) -> Callable:
    """Jinja's newstyle gettext (what ``{% trans %}`` and ``_()`` call), without the two calls through
    the template's context that Jinja's own makes for every phrase (one for ``_``, one for the
    catalog): a statement says about 45 phrases in each language. The same words: the catalog's
    translation, marked safe in an autoescaped template, its ``%(name)s`` placeholders filled."""
    lookup = catalog.gettext

    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        text = lookup(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables  # always a format string, as Jinja's newstyle gettext has it
    return gettext


_SORTED_JSON = json.JSONEncoder(sort_keys=True)


def _json_dumps(value: Any, **options: Any) -> str:
    """``json.dumps(value, sort_keys=True)`` (Jinja's tojson policy), by one encoder built once."""
    if options == {"sort_keys": True}:
        return _SORTED_JSON.encode(value)
    return json.dumps(value, **options)


def _tojson(value: Any, indent: int | None = None) -> Markup:
    """Jinja's ``tojson`` under the policy above (``htmlsafe_json_dumps``: sorted keys, then ``<``, ``>``,
    ``&`` and ``'`` as ``\\u`` escapes, marked safe), without its three calls around the encoder: a
    statement's JSON documents call it about 30 times a language."""
    text = _SORTED_JSON.encode(value) if indent is None else json.dumps(value, sort_keys=True, indent=indent)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                  .replace("'", "\\u0027"))


class _Environment(Environment):
    code_generator_class = CatalogCodeGenerator  # the catalog's phrases looked up at compile time
    catalog_lookup: Callable[[str], str] | None = None

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template given no globals of its own reads the environment's dict itself. Jinja copies a
        template's globals into every render's context, and the ChainMap it wraps them in by default
        is copied key by key in Python: most of the cost of rendering a short template. Nothing here
        gives a template globals of its own (which Jinja would write into this dict)."""
        return self.globals if not d else super().make_globals(d)


@lru_cache(maxsize=32)
def environment(templates_dir: Path, locale: str = "en") -> Environment:
    """The environment that renders in `locale`: its catalog for the fixed phrases, its formats."""
    env = _Environment(
        loader=FileSystemLoader(str(templates_dir)),
        # A template is read once per process: checking each file's mtime at every render was a stat
        # per template and per import, a statement's largest cost after the templates themselves.
        # An edited template is read at the next start, or after reload_templates().
        auto_reload=False,
        # Every template kept, in a plain dict: the templates folder is finite, and Jinja's default
        # LRU cache takes a lock and reorders a queue on every lookup (each render and each import).
        cache_size=-1,
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are layout, not words
    catalog = translations(templates_dir, locale)
    env.catalog_lookup = catalog.gettext  # before any template compiles: compiled_phrases.py
    env.install_gettext_translations(catalog, newstyle=True)
    env.globals.update(gettext=_gettext(catalog), _=_gettext(catalog))
    # tojson's json.dumps(sort_keys=True) builds an encoder per value: the same encoder, built once.
    env.policies["json.dumps_function"] = _json_dumps
    env.filters.update(_filters(locale))
    env.globals.update(locale=locale, direction=direction(locale), timedelta=timedelta)
    return env


def reload_templates() -> None:
    """Forget every compiled template and every folder's list of fields: the next render reads the
    files again (what a developer editing templates in a running process, or a test, calls)."""
    environment.cache_clear()
    channel_templates.cache_clear()


@lru_cache(maxsize=8)
def channel_templates(templates_dir: Path) -> dict[str, list[str]]:
    """{channel: [template names]}, plain text first, from the folders in templates_dir."""
    folders = sorted(p for p in templates_dir.iterdir()
                     if p.is_dir() and not p.name.startswith(("_", ".")) and p.name != CATALOGS)
    return {folder.name: _field_templates(templates_dir, folder.name) for folder in folders}


def _field_templates(templates_dir: Path, folder: str) -> list[str]:
    """The templates directly in a folder (not its subfolders), plain text first."""
    files = [f for f in (templates_dir / folder).iterdir() if f.is_file() and not f.name.startswith((".", "_"))]
    files.sort(key=lambda f: (f.suffix in MARKUP_SUFFIXES, f.name))
    return [f"{folder}/{f.name}" for f in files]


def render_statement(templates_dir: Path, context: dict[str, Any],
                     channels: list[str] | None = None, locale: str = "en") -> dict[str, dict[str, str]]:
    """{channel: {field: text}} in `locale` for the named channels (default: every template folder)."""
    env = environment(templates_dir, locale)
    folders = channel_templates(templates_dir)
    missing = [name for name in channels or () if not folders.get(name)]
    if missing:
        raise TemplateProblem(f"{missing[0]}/", f"channel {missing[0]!r} has no templates in {templates_dir}")
    # one for every channel: each shared phrase is said once
    shared = _with_globals(env, statement_context(env, context))
    return {channel: _render_fields(env, folders[channel], shared)
            for channel in (channels if channels is not None else list(folders))}


def render_folder(templates_dir: Path, folder: str, context: dict[str, Any], locale: str = "en") -> dict[str, str]:
    """{field: text} from every template in one folder (e.g. ``email/signup/message``), rendered as
    a channel's rendition is: plain text first, markup fields can wrap it as ``this``."""
    env = environment(templates_dir, locale)
    shared = _with_globals(env, statement_context(env, context))
    return _render_fields(env, _field_templates(templates_dir, folder), shared)


def statement_context(env: Environment, context: dict[str, Any]) -> dict[str, Any]:
    """What every template of one statement in one language reads: its fields, and ``words``, the
    phrases every notice shares, each said once for all the templates (``notice_words.py``)."""
    return {**context, "words": NoticeWords(env, context)}


def _with_globals(env: Environment, shared: dict[str, Any]) -> dict[str, Any]:
    """What a template's context starts from: the environment's globals, the statement's names over
    them (as ``Template.render`` merges them), worked out once for all of a statement's templates."""
    return {**env.globals, **shared}


def _render_fields(env: Environment, names: list[str], shared: dict[str, Any]) -> dict[str, str]:
    """{field: text} of one channel; `shared` is `statement_context`'s, with the globals (`_with_globals`)."""
    fields: dict[str, str] = {}
    for name in names:
        text = _render_one(env, name, shared, dict(fields))
        if text:
            fields[_field_name(name)] = text
    return fields


def _render(template: Template, shared: dict[str, Any], this: dict[str, str]) -> str:
    """``template.render({**shared, "this": this})`` for a `shared` that has the globals already. Jinja's
    own copies its argument twice, merging the globals in, at every render (30 a statement and
    language); here every template of the statement reads the one `shared` as its context's parent
    (a template never writes its parent) and `this` is its own name, as a ``set`` at its top would be."""
    env = template.environment
    context = env.context_class(env, shared, template.name, template.blocks, globals=template.globals)
    context.vars["this"] = this
    try:
        return env.concat(template.root_render_func(context))
    except Exception:
        env.handle_exception()  # raises it again, its traceback in the template's lines


@lru_cache(maxsize=1024)
def _field_name(template: str) -> str:
    """'email/body_html.html' → 'body_html': the field a template renders."""
    return Path(template).stem


def _render_one(env: Environment, name: str, shared: dict[str, Any], this: dict[str, str]) -> str:
    try:
        text = _render(env.get_template(name), shared, this)
    except UndefinedError as exc:
        raise TemplateProblem(name, f"undefined variable '{_undefined_name(exc)}'", _template_line(env, name)) from None
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.name or name, f"syntax error: {exc.message}", exc.lineno) from None
    except TemplateNotFound as exc:
        raise TemplateProblem(name, f"includes {exc.name}, which does not exist") from None
    return _tidy(text)


def _undefined_name(exc: UndefinedError) -> str:
    message = str(exc)
    for pattern in (r"^'([^']+)' is undefined", r"has no attribute '([^']+)'", r"no element '?([^']+?)'?$"):
        match = re.search(pattern, message)
        if match:
            return match.group(1)
    return message


def _template_line(env: Environment, name: str) -> int | None:
    """The line of the template where rendering stopped, from the traceback Jinja rewrites."""
    filename = env.get_template(name).filename
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """Trailing spaces and runs of blank lines are template artefacts, not wording."""
    tidy = "\n".join(map(str.rstrip, text.strip().splitlines()))
    return _BLANK_LINES.sub("\n\n", tidy) if "\n\n\n" in tidy else tidy


def say(templates_dir: Path, template: str, message: str, locale: str = "en", **values: Any) -> str:
    """One message of a template of messages (``{% macro name(...) %}`` each), on one line: what a
    public page tells its visitor (which field, which limit) is worded there, not in the code."""
    macro = getattr(environment(templates_dir, locale).get_template(template).module, message)
    return " ".join(str(macro(**values)).split())
