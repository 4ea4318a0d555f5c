"""How `broadcaster ... --help` reads: drawn here, for every command and group, not by Typer.

Typer's own rich help was unreadable at 80 columns and changes from release to release: it kept a
docstring's line breaks (a sentence broke mid-line wherever the source wrapped), cut long option
names to `--contact-centre-c…` in its table of five name columns, and from 0.29 shows `<bool>` beside
every on/off flag, as if a value had to be typed. Here a blank line separates paragraphs and a single
newline is a space; a flag shows no value; a name too long for the names column gets a line of its
own with its help under it, so nothing is cut at any width. Only rich and the parameters' plain
attributes (opts, help, default...) are used, which both Typer 0.27 and 0.29 keep."""

import inspect
import re
from types import MethodType

from rich.console import Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .terminal import Terminal

NAMES_WIDTH = 26  # at 80 columns this leaves the help 46 characters a line
# A value's placeholder by its Python type (Typer 0.27 names click's types, 0.29 the annotation).
VALUES = {"str": "TEXT", "text": "TEXT", "int": "INTEGER", "integer": "INTEGER", "float": "NUMBER",
          "path": "PATH", "int range": "INTEGER", "integer range": "INTEGER"}


def paragraphs(text: str | None) -> list[str]:
    """A docstring's paragraphs, each on one line (what follows a `\\f` line is for the code only)."""
    text = inspect.cleandoc(text or "").partition("\f")[0]
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


class Explained:
    """Mixed into the root group's class: its `--help` prints what `render` draws, and a usage error
    names the arguments as the help does (Typer's own usage line writes `{statement_id}`)."""

    def format_help(self, ctx, formatter) -> None:
        render(self, ctx)

    def collect_usage_pieces(self, ctx) -> list[str]:
        return _usage_pieces(self, ctx.command.get_params(ctx))


def explain(command) -> None:
    """Gives every command under `command` the help drawn here. Typer builds the app's tree from each
    module's `@app.command`, with its own classes: this is the one place every command passes through,
    and binding the method on each object leaves Typer's classes as they are."""
    for sub in getattr(command, "commands", {}).values():
        sub.format_help = MethodType(Explained.format_help, sub)
        sub.collect_usage_pieces = MethodType(Explained.collect_usage_pieces, sub)
        explain(sub)


def render(command, ctx) -> None:
    console = Terminal(highlight=False)  # made now: the width is the terminal's (or COLUMNS) at this call
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    console.print(Padding(Text.assemble(("Usage: ", "yellow"), _usage(command, ctx, params)), (1, 1, 0, 1)))
    said = paragraphs(command.help)
    for i, paragraph in enumerate(said):
        console.print(Padding(Text(paragraph, style="dim" if i else ""), (1, 1, 0, 1)))
    console.print()
    arguments = [p for p in params if p.param_type_name == "argument"]
    options = [p for p in params if p.param_type_name != "argument"]
    panels = [(title, rows) for title, rows in (("Arguments", [_argument(p) for p in arguments]),
                                                ("Options", [_option(p) for p in options]),
                                                *_command_panels(command, ctx)) if rows]
    # One names column for the whole page, as wide as its longest name that fits NAMES_WIDTH.
    width = max([len(name) for _, rows in panels for name, _ in rows if len(name) <= NAMES_WIDTH] or [0])
    for title, rows in panels:
        console.print(Panel(_rows(rows, width), title=title, title_align="left", border_style="dim"))


def _usage(command, ctx, params) -> str:
    return " ".join([ctx.command_path, *_usage_pieces(command, params)])


def _usage_pieces(command, params) -> list[str]:
    params = [p for p in params if not getattr(p, "hidden", False)]
    pieces = ["[OPTIONS]"] if any(p.param_type_name != "argument" for p in params) else []
    for p in params:
        if p.param_type_name == "argument":
            name = p.name.upper() + ("..." if p.nargs == -1 or p.multiple else "")
            pieces.append(name if p.required else f"[{name}]")
    if hasattr(command, "commands"):
        pieces += ["COMMAND", "[ARGS]..."]
    return pieces


def _argument(p) -> tuple[Text, Text]:
    return Text(p.name.upper(), style="bold cyan"), _help(p)


def _option(p) -> tuple[Text, Text]:
    name = Text(", ".join(p.opts), style="bold cyan")
    if p.secondary_opts:
        name.append(" / ").append(", ".join(p.secondary_opts), style="bold magenta")
    if not getattr(p, "is_flag", False) and not getattr(p, "count", False):
        name.append(" ").append(p.metavar or _value(p), style="yellow")
    return name, _help(p)


def _value(p) -> str:
    kind = getattr(getattr(p, "type", None), "name", None)
    if kind is None:  # Typer 0.29: no click type; the annotation (list[str] for a repeatable one)
        annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
        kind = getattr(getattr(annotation, "__args__", [annotation])[0], "__name__", "text")
    return VALUES.get(kind.lower(), kind.upper())


def _help(p) -> Text:
    text = Text(" ".join(paragraphs(getattr(p, "help", None))))
    extras = []
    low = getattr(p, "min", getattr(getattr(p, "type", None), "min", None))
    high = getattr(p, "max", getattr(getattr(p, "type", None), "max", None))
    if low is not None or high is not None:
        extras.append(f"[{low if low is not None else ''}..{high if high is not None else ''}]")
    if p.envvar and getattr(p, "show_envvar", True):
        extras.append(f"[env var: {p.envvar}]")
    default = _default(p)
    if default:
        extras.append(f"[default: {default}]")
    if p.required:
        extras.append("[required]")
    for extra in extras:
        text.append(" " if text else "").append(extra, style="dim")
    return text


def _default(p) -> str:
    if getattr(p, "is_flag", False):  # --wait/--no-wait: which one holds unless told (None: neither)
        return (p.opts[0] if p.default else p.secondary_opts[0]) if p.secondary_opts and p.default is not None else ""
    if isinstance(getattr(p, "show_default", None), str):
        return p.show_default
    if p.default in (None, "", [], ()) or callable(p.default) or getattr(p, "show_default", True) is False:
        return ""
    return str(p.default)


def _command_panels(command, ctx) -> list[tuple[str, list[tuple[Text, Text]]]]:
    """A group's commands, panel by panel in the order the group lists them (`rich_help_panel`)."""
    panels: dict[str, list[tuple[Text, Text]]] = {}
    for name in command.list_commands(ctx) if hasattr(command, "commands") else []:
        sub = command.get_command(ctx, name)
        if sub is None or sub.hidden:
            continue
        first = paragraphs(sub.short_help or sub.help)
        panel = getattr(sub, "rich_help_panel", None) or "Commands"
        panels.setdefault(panel, []).append((Text(name, style="bold cyan"), Text(first[0] if first else "")))
    return list(panels.items())


def _rows(rows: list[tuple[Text, Text]], width: int) -> Group:
    """Name and help side by side; a name longer than the names column on a line of its own, its
    help under it, indented as the others'."""
    parts = []
    grid = None
    for name, said in rows:
        if len(name) > width:
            parts += [name, Padding(said, (0, 0, 0, width + 2))]
            grid = None
            continue
        if grid is None:
            grid = Table.grid(padding=(0, 2), expand=True)
            grid.add_column(width=width, no_wrap=True)
            grid.add_column(ratio=1)
            parts.append(grid)
        grid.add_row(name, said)
    return Group(*parts)
