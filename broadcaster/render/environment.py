"""The one Jinja environment, and rendering a statement through every channel's templates.

Each registered channel has a folder in ``templates/``; each file in it is one field of that
channel's rendition (``email/subject.txt`` → ``email["subject"]``). Plain-text
fields render first, so markup fields can wrap them: ``ivr/twiml.xml`` says
``{{ this.script }}``, escaped for XML. Only ``.html`` and ``.xml`` autoescape:
an SMS must show ``<script>`` as the customer typed it, a web page must not run it.
"""

import re
import sys
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from ..domain import clock as domain_clock
from ..domain.errors import BroadcasterError

MARKUP_SUFFIXES = (".html", ".xml")


class TemplateProblem(BroadcasterError):
    def __init__(self, template: str, message: str, line: int | None = None):
        where = f"template {template}" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {message}")
        self.template = template
        self.line = line


def sentence(value: str) -> str:
    """End a phrase with a full stop unless it already ends a sentence."""
    value = value.strip()
    return value if not value or value[-1] in ".!?" else value + "."


def _zone(value: Any) -> tzinfo:
    """The context's ``tz``: a ZoneInfo, or its key ('America/New_York')."""
    return value if isinstance(value, tzinfo) else ZoneInfo(str(value))


def _time_filter(format_time: Callable[[datetime, tzinfo, datetime], str]) -> Callable:
    """A filter that formats a datetime in the context's zone (``tz``), relative to its ``now``.
    A context without them is an undefined-variable error naming the one missing."""
    @pass_context
    def time_filter(context: Context, value: datetime | None) -> str:
        if not value:
            return ""
        zone, now = context.resolve("tz"), context.resolve("now")
        for name, given in (("tz", zone), ("now", now)):
            if isinstance(given, Undefined):
                raise UndefinedError(f"'{name}' is undefined")
        return format_time(value, _zone(zone), now)
    return time_filter


@lru_cache(maxsize=8)
def environment(templates_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clock"] = _time_filter(domain_clock.clock)  # '13:25 EST', 'tomorrow 13:25 EST'
    env.filters["spoken_clock"] = _time_filter(domain_clock.spoken_clock)  # '1:25 PM EST tomorrow'
    env.filters["sentence"] = sentence
    return env


@lru_cache(maxsize=8)
def channel_templates(templates_dir: Path) -> dict[str, list[str]]:
    """{channel: [template names]}, plain text first, from the folders in templates_dir."""
    folders = sorted(p for p in templates_dir.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    return {folder.name: _field_templates(templates_dir, folder.name) for folder in folders}


def _field_templates(templates_dir: Path, folder: str) -> list[str]:
    """The templates directly in a folder (not its subfolders), plain text first."""
    files = [f for f in (templates_dir / folder).iterdir() if f.is_file() and not f.name.startswith((".", "_"))]
    files.sort(key=lambda f: (f.suffix in MARKUP_SUFFIXES, f.name))
    return [f"{folder}/{f.name}" for f in files]


def render_statement(templates_dir: Path, context: dict[str, Any],
                     channels: list[str] | None = None) -> dict[str, dict[str, str]]:
    """{channel: {field: text}} for the named channels (default: every template folder)."""
    env = environment(templates_dir)
    folders = channel_templates(templates_dir)
    missing = [name for name in channels or () if not folders.get(name)]
    if missing:
        raise TemplateProblem(f"{missing[0]}/", f"channel {missing[0]!r} has no templates in {templates_dir}")
    return {channel: _render_fields(env, folders[channel], context)
            for channel in (channels if channels is not None else list(folders))}


def render_folder(templates_dir: Path, folder: str, context: dict[str, Any]) -> dict[str, str]:
    """{field: text} from every template in one folder (e.g. ``email/signup/message``), rendered as
    a channel's rendition is: plain text first, markup fields can wrap it as ``this``."""
    return _render_fields(environment(templates_dir), _field_templates(templates_dir, folder), context)


def _render_fields(env: Environment, names: list[str], context: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name in names:
        fields[Path(name).stem] = _render_one(env, name, {**context, "this": dict(fields)})
    return fields


def _render_one(env: Environment, name: str, context: dict[str, Any]) -> str:
    try:
        text = env.get_template(name).render(context)
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


def _tidy(text: str) -> str:
    """Trailing spaces and runs of blank lines are template artefacts, not wording."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def say(templates_dir: Path, template: str, message: str, **values: Any) -> str:
    """One message of a template of messages (``{% macro name(...) %}`` each), on one line: what a
    public page tells its visitor (which field, which limit) is worded there, not in the code."""
    macro = getattr(environment(templates_dir).get_template(template).module, message)
    return " ".join(str(macro(**values)).split())
