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
the filters of ``filters.py`` (``domain/clock.py``, CLDR through Babel).
"""

import re
import sys
from collections.abc import Callable, MutableMapping
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from ..domain.errors import BroadcasterError
from .compiled_phrases import CatalogCodeGenerator
from .filters import filters_for, json_dumps
from .languages import CATALOGS, direction, translations
from .notice_words import NoticeWords

MARKUP_SUFFIXES = (".html", ".xml")


class TemplateProblem(BroadcasterError):
    def __init__(self, template: str, message: str, line: int | None = None):
        where = f"template {template}" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {message}")
        self.template = template
        self.line = line


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


class _Environment(Environment):
    code_generator_class = CatalogCodeGenerator  # the catalog's phrases looked up at compile time
    catalog_lookup: Callable[[str], str] | None = None
    templates_by_name: dict[str, Template]  # environment() gives each its own: _template

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
        # Asked at every render (a template's context is made with it): answered once per name.
        autoescape=lru_cache(maxsize=1024)(select_autoescape(enabled_extensions=("html", "xml"), default=False)),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are layout, not words
    catalog = translations(templates_dir, locale)
    env.templates_by_name = {}
    env.catalog_lookup = catalog.gettext  # before any template compiles: compiled_phrases.py
    env.install_gettext_translations(catalog, newstyle=True)
    env.globals.update(gettext=_gettext(catalog), _=_gettext(catalog))
    # tojson's json.dumps(sort_keys=True) builds an encoder per value: the same encoder, built once.
    env.policies["json.dumps_function"] = json_dumps
    env.filters.update(filters_for(locale))
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


def _template(env: Environment, name: str) -> Template:
    """``env.get_template(name)`` from a dict of the environment's own: Jinja's cache (kept whole, never
    reloaded: ``environment``) is keyed by a weak reference to the loader, made again at every lookup."""
    found = env.templates_by_name.get(name)
    if found is None:
        found = env.templates_by_name[name] = env.get_template(name)
    return found


@lru_cache(maxsize=1024)
def _field_name(template: str) -> str:
    """'email/body_html.html' → 'body_html': the field a template renders."""
    return Path(template).stem


def _render_one(env: Environment, name: str, shared: dict[str, Any], this: dict[str, str]) -> str:
    try:
        text = _render(_template(env, name), shared, this)
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
