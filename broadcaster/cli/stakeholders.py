"""`broadcaster stakeholders ...`: named internal audiences (leadership, the regulator, first responders)
who get their own rendition of every approved version by email and SMS."""

from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..stakeholders.sends_on import SendsOn
from .common import AUDIENCE, As, AsJson, app, get_settings, out, print_json, who
from .views import plural

stakeholders_app = typer.Typer(no_args_is_help=True, help="Internal audiences: leadership, the regulator, "
                                                          "first responders, with their own detailed rendition.")
app.add_typer(stakeholders_app, name="stakeholders", rich_help_panel=AUDIENCE)


@stakeholders_app.command("list")
def stakeholders_list(as_json: AsJson = False) -> None:
    """Every stakeholder audience with its members."""
    from ..stakeholders import audiences as service

    audiences = service.list_audiences(get_settings())
    if as_json:
        print_json(audiences)
        return
    table = Table("audience", "hears", "members")
    for audience in audiences:
        people = ", ".join(f"{m['name']} ({' '.join(filter(None, (m['email'], m['phone'])))})"
                           for m in audience["members"])
        table.add_row(escape(audience["name"]), audience["sends_on"], escape(people) or "nobody yet")
    out.print(table)


@stakeholders_app.command("create")
def stakeholders_create(
    name: str,
    description: Annotated[str, typer.Option(help="Who they are, for the people who keep the list.")] = "",
    sends_on: Annotated[str, typer.Option(help="every (each version) or open_and_resolve (the first and the "
                                               "resolution).")] = SendsOn.EVERY.value,
    actor: As = None,
) -> None:
    """Create a stakeholder audience, e.g. `stakeholders create leadership --as alice`."""
    from ..stakeholders import audiences as service

    audience = service.create_audience(get_settings(), who(actor), name, description, sends_on)
    out.print(f"stakeholder audience {audience['id']}: {escape(audience['name'])} (hears {audience['sends_on']})")


@stakeholders_app.command("add")
def stakeholders_add(
    audience: Annotated[str, typer.Argument(help="The audience's name or id.")],
    name: Annotated[str, typer.Argument(help="The person's name.")],
    email: Annotated[Optional[str], typer.Option(help="Their email address.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="International format, e.g. +14155550100.")] = None,
    actor: As = None,
) -> None:
    """Add a person to an audience, with an email address, a phone number or both."""
    from ..stakeholders import audiences as service

    found = service.add_member(get_settings(), who(actor), audience, name, email, phone)
    out.print(f"{escape(found['name'])}: {plural(len(found['members']), 'member', 'members')}")


@stakeholders_app.command("drop")
def stakeholders_drop(
    audience: Annotated[str, typer.Argument(help="The audience's name or id.")],
    name: Annotated[str, typer.Argument(help="The person's name.")],
    actor: As = None,
) -> None:
    """Take a person off an audience."""
    from ..stakeholders import audiences as service

    found = service.remove_member(get_settings(), who(actor), audience, name)
    out.print(f"{escape(found['name'])}: {plural(len(found['members']), 'member', 'members')}")


@stakeholders_app.command("remove")
def stakeholders_remove(
    audience: Annotated[str, typer.Argument(help="The audience's name or id.")],
    actor: As = None,
) -> None:
    """Remove an audience and its list (what it was sent stays in the send log)."""
    from ..stakeholders import audiences as service

    gone = service.remove_audience(get_settings(), who(actor), audience)
    out.print(f"stakeholder audience {gone['id']} removed: {escape(gone['name'])}")
