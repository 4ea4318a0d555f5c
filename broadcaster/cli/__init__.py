"""The `broadcaster` command, one module per command group. Every command calls use cases;
an error is one clear line on stderr and a non-zero exit, never a traceback."""

import sys

from rich.markup import escape

from ..domain.errors import BroadcasterError
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
from .terminal import reader_gone

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    # Imported here, not at the top: `broadcaster --help` and a command that reads the database need
    # none of what sending an event loads (the channels, Celery); the hooks load it at the first event.
    from ..events import register_event_hooks

    register_event_hooks()  # what a command does (open, submit, approve, publish) raises events
    try:
        app(args=argv, prog_name="broadcaster")
    except BroadcasterError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except BrokenPipeError:  # a plain write (`log --csv | head`): the reader closed stdout
        reader_gone()
    except Exception as exc:
        if not _explained(exc):
            raise
        sys.exit(1)


def _explained(exc: Exception) -> bool:
    """Says on stderr, one line each, why the command failed when an input model refused what was typed
    (which option and why) or the database cannot be used; False for any other exception. Their classes
    are looked up in `sys.modules`: a command that never loaded pydantic or SQLAlchemy cannot have raised
    their errors, and importing them here would cost `--help` what its lazy imports save."""
    pydantic, sqlalchemy_exc = sys.modules.get("pydantic"), sys.modules.get("sqlalchemy.exc")
    if pydantic and isinstance(exc, pydantic.ValidationError):
        for problem in exc.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "input"
            err.print(f"[bold red]error:[/] {escape(where)}: {escape(problem['msg'])}", highlight=False,
                      soft_wrap=True)
        return True
    if sqlalchemy_exc and isinstance(exc, sqlalchemy_exc.OperationalError):
        err.print(f"[bold red]error:[/] cannot use the database: {escape(str(exc.orig))}", highlight=False,
                  soft_wrap=True)
        return True
    return False
