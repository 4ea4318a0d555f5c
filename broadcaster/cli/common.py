"""What every command shares: the root app, the consoles, the --as and --json options."""

import json
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..config import get_settings
from ..domain.approval import Actor
from ..people.users import actor_named

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  help="Broadcaster: approve one outage statement, say it verbatim on every channel.")

out = Console()
err = Console(stderr=True)

As = Annotated[Optional[str], typer.Option("--as", envvar="BROADCASTER_USER", help="Who you are (a user name).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Wait = Annotated[bool, typer.Option(
    "--wait/--no-wait", help="Send it now and show how it goes (embedded: in this process), or only queue it "
                             "for the workers (embedded: for the next `broadcaster serve`).")]


def who(name: str | None) -> Actor:
    """The user the command acts as (--as NAME or BROADCASTER_USER)."""
    return actor_named(get_settings(), name)


def print_json(value) -> None:
    out.print_json(json.dumps(value, ensure_ascii=False, default=str))


# For commands whose argument is an id: `preview -1` reaches the command (which says ids start at
# 1) instead of click reading "-1" as an unknown option.
ID_ARGUMENT = {"ignore_unknown_options": True}
