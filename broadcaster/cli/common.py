"""What every command shares: the root app and its help panels, the consoles, the --as, --json
and --wait options.

The command modules import what a command uses (settings, use cases, the store) inside the command:
`broadcaster --help` and each command then load only their own part of the package (a process used to
spend about a second importing the web of use cases, Celery and the SDKs before doing anything). Only
typer, rich and the plain-Python `domain` modules are imported at the top."""

import json
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from ..domain.approval import Actor
from .helptext import Explained, explain
from .terminal import Terminal

# `broadcaster --help` groups the commands by task, in this order: what an outage needs first,
# running the system last. Every command names its panel (`rich_help_panel=`).
INCIDENTS = "Incidents and statements"
APPROVALS = "Approvals"
HOLDING = "Holding statements"
AUDIENCE = "Audience"
PEOPLE = "People and access"
SOCIAL = "Social"
SURFACES = "Surfaces: status page, banner, phone line"
OPERATIONS = "Operations"
PANELS = (INCIDENTS, APPROVALS, HOLDING, AUDIENCE, PEOPLE, SOCIAL, SURFACES, OPERATIONS)
# Within a panel, the order of the work (a command not named here comes after those that are).
FLOW = """incident statement preview submit publish withdraw template alert maintenance wording approve reject component
          phone export init serve worker beat status log audit retry sweep""".split()


class ByTask(Explained, TyperGroup):
    """Lists commands panel by panel in PANELS' order, each panel in FLOW's: the help prints the panels
    in the order their first command comes. Typer builds it last, with every command of the app under
    it: each then gets the help `helptext` draws."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        explain(self)

    def list_commands(self, ctx) -> list[str]:
        def rank(name: str) -> tuple[int, int]:
            panel = getattr(self.commands[name], "rich_help_panel", None)
            return (PANELS.index(panel) if panel in PANELS else len(PANELS),
                    FLOW.index(name) if name in FLOW else len(FLOW))

        return sorted(super().list_commands(ctx), key=rank)


app = typer.Typer(cls=ByTask, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  help="Broadcaster: approve one outage statement, say it verbatim on every channel.\n\n"
                       "Commands that change data act as a user: --as NAME on the command, or `export "
                       "BROADCASTER_USER=NAME` once for the shell. `broadcaster COMMAND --help` says what each takes.")

out = Terminal()
err = Terminal(stderr=True)

As = Annotated[Optional[str], typer.Option("--as", envvar="BROADCASTER_USER", help="Who you are (a user name).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
# The ids commands take: an incident's (`statement draft`) is not a statement's (everything after it).
StatementId = Annotated[int, typer.Argument(
    help="The statement's id, which `statement draft` prints (`statement list` lists them).")]
IncidentId = Annotated[int, typer.Argument(
    help="The incident's id, which `incident open` prints (`incident list` lists them).")]
Wait = Annotated[bool, typer.Option(
    "--wait/--no-wait", help="Send it now and show how it goes (embedded: in this process), or only queue it "
                             "for the workers (embedded: for the next `broadcaster serve`).")]


def get_settings():
    """The process's settings (`config.get_settings()`, cached there)."""
    from ..config import get_settings

    return get_settings()


def who(name: str | None) -> Actor:
    """The user the command acts as (--as NAME or BROADCASTER_USER)."""
    from ..people.users import actor_named

    return actor_named(get_settings(), name)


def print_json(value) -> None:
    out.print_json(json.dumps(value, ensure_ascii=False, default=str))


# For commands whose argument is an id: `preview -1` reaches the command (which says ids start at
# 1) instead of click reading "-1" as an unknown option.
ID_ARGUMENT = {"ignore_unknown_options": True}
