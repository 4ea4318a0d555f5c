"""`broadcaster postmortem`: write an incident's postmortem in Markdown, preview it, approve it and
publish it (the page, the feeds, the Statuspage JSON, and an email to the subscribers who asked)."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..domain.errors import InvalidInput
from .common import APPROVALS, ID_ARGUMENT, As, AsJson, IncidentId, app, get_settings, out, print_json, who
from .views import plural

postmortem_app = typer.Typer(no_args_is_help=True, help="Postmortems: written after an incident, approved, published.")
app.add_typer(postmortem_app, name="postmortem", rich_help_panel=APPROVALS)

MarkdownFile = Annotated[str, typer.Argument(help="The Markdown file, or - to read it from standard input.")]


def _read(path: str) -> str:
    from ..postmortems.rendering import MOST_CHARACTERS

    try:
        if path == "-":
            text = sys.stdin.read(MOST_CHARACTERS * 4 + 1)
        else:
            with Path(path).open(encoding="utf-8") as handle:
                text = handle.read(MOST_CHARACTERS * 4 + 1)
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"postmortem: cannot read {path}: {error}") from None
    return text


def _say(view: dict) -> None:
    needed = plural(view["approvals_needed"], "approval", "approvals")
    out.print(f"postmortem {view['id']} of incident {view['incident_id']}: {view['state']}, content "
              f"{view['content_hash'][:12]}, {view['approvals']} of {needed}", highlight=False)


@postmortem_app.command("write", context_settings=ID_ARGUMENT)
def write(incident_id: IncidentId, markdown: MarkdownFile, actor: As = None, json_: AsJson = False) -> None:
    """Write (or rewrite) the postmortem of a resolved incident from a Markdown file. Rewriting
    makes new content: approvals of the old content no longer count."""
    from ..postmortems import workflow

    view = workflow.write(get_settings(), who(actor), incident_id, _read(markdown))
    print_json(view) if json_ else _say(view)


@postmortem_app.command("preview", context_settings=ID_ARGUMENT)
def preview(incident_id: IncidentId, markdown: Annotated[Optional[str], typer.Option(
        "--file", help="Preview this Markdown file instead of what is stored (nothing is stored).")] = None,
        json_: AsJson = False) -> None:
    """Show the sanitised HTML a postmortem shows (what is approved) and its content hash."""
    from ..postmortems import workflow

    view = workflow.preview(_read(markdown)) if markdown else workflow.of_incident(get_settings(), incident_id)
    if json_:
        print_json(view)
        return
    out.print(view["html"], highlight=False, markup=False, soft_wrap=True)
    out.print(f"content {view['content_hash']}", highlight=False)


@postmortem_app.command("approve", context_settings=ID_ARGUMENT)
def approve(postmortem_id: int, seen: Annotated[Optional[str], typer.Option(
        "--hash", help="The content hash you read (at least 12 characters): refused if the content changed.")] = None,
        actor: As = None, json_: AsJson = False) -> None:
    """Approve a postmortem (never your own): sealed, for exactly the content you saw."""
    from ..postmortems import workflow

    view = workflow.approve(get_settings(), who(actor), postmortem_id, seen)
    print_json(view) if json_ else _say(view)


@postmortem_app.command("publish", context_settings=ID_ARGUMENT)
def publish(postmortem_id: int, actor: As = None, json_: AsJson = False) -> None:
    """Publish an approved postmortem: the incident's page, the feeds and the Statuspage JSON show it,
    and the subscribers who asked for postmortems are emailed it (through the workers)."""
    from ..postmortems import workflow

    view = workflow.publish(get_settings(), who(actor), postmortem_id)
    if json_:
        print_json(view)
        return
    _say(view)
    out.print(f"emailed to {plural(view['emailed'], 'subscriber', 'subscribers')} (queued for the workers)",
              highlight=False)


@postmortem_app.command("emails")
def emails(email: str, off: Annotated[bool, typer.Option("--off", help="Stop emailing them postmortems.")] = False,
           actor: As = None) -> None:
    """Email postmortems to a subscriber (by email address) from now on, or stop (--off)."""
    from ..postmortems import workflow

    view = workflow.opt_in(get_settings(), who(actor), email, wanted=not off)
    out.print(f"{view['email']}: postmortem emails {'on' if view['postmortems'] else 'off'}", highlight=False)
