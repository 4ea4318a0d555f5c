"""The `broadcaster` command, one module per command group. Every command calls use cases;
an error is one clear line on stderr and a non-zero exit, never a traceback."""

import sys

from pydantic import ValidationError
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from ..domain.errors import BroadcasterError
from ..events import register_event_hooks
from . import (  # noqa: F401 - each registers its commands
    alerts,
    approvals,
    audience,
    components,
    delivery,
    demo,
    events,
    holding,
    maintenance,
    people,
    phone,
    postmortems,
    run,
    social,
    stakeholders,
    statements,
    templates,
    wording,
)
from .common import app, err

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    register_event_hooks()  # what a command does (open, submit, approve, publish) raises events
    try:
        app(args=argv, prog_name="broadcaster")
    except BroadcasterError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except ValidationError as exc:  # an input model refused what was typed: say which option and why, no traceback
        for problem in exc.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "input"
            err.print(f"[bold red]error:[/] {escape(where)}: {escape(problem['msg'])}", highlight=False,
                      soft_wrap=True)
        sys.exit(1)
    except OperationalError as exc:
        err.print(f"[bold red]error:[/] cannot use the database: {escape(str(exc.orig))}", highlight=False,
                  soft_wrap=True)
        sys.exit(1)
