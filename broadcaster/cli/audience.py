"""`broadcaster subscribers ...`: customers who get updates by email, SMS or webhook."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..domain.errors import InvalidInput
from .common import AUDIENCE, As, AsJson, app, err, get_settings, out, print_json, who
from .views import fields_said

subscribers_app = typer.Typer(no_args_is_help=True, help="Customers who get updates by email, SMS or webhook.")
app.add_typer(subscribers_app, name="subscribers", rich_help_panel=AUDIENCE)


@subscribers_app.command("add")
def subscribers_add(
    email: Annotated[Optional[str], typer.Option(help="Their email address: updates by email.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="Their mobile, international format, e.g. +14155550123: "
                                                      "updates by SMS.")] = None,
    address: Annotated[Optional[list[str]], typer.Option(
        help="FIELD=VALUE for any other channel's address, e.g. webhook_url=https://example.com/hook.")] = None,
    component: Annotated[Optional[list[str]], typer.Option(help="Only incidents touching these.")] = None,
    locale: Annotated[Optional[str], typer.Option(
        help="The language updates are sent in, e.g. es or pt-BR (default: the installation's).")] = None,
    actor: As = None,
) -> None:
    """Subscribe one customer to updates: email, SMS, a webhook, or several."""
    from ..audience import subscribers

    addresses = {"email": email, "phone": phone, **dict(_field_value(a) for a in address or [])}
    sub = subscribers.add_subscriber(get_settings(), who(actor), component or [], locale, **addresses)
    out.print(f"subscriber {sub['id']}: {escape(fields_said(sub))}", highlight=False)
    if any(k.endswith("secret") for k in sub):
        out.print("keep the secret above: it is shown only once, and the receiver needs it to verify signatures")


def _field_value(text: str) -> tuple[str, str]:
    field, sep, value = text.partition("=")
    if not sep or not field.strip():
        raise InvalidInput(f"--address {text!r}: give FIELD=VALUE, e.g. webhook_url=https://example.com/hook")
    return field.strip(), value.strip()


@subscribers_app.command("import")
def subscribers_import(
    file: Annotated[Path, typer.Argument(help="CSV with a header: email, phone, locale, components.")],
    region: Annotated[Optional[str], typer.Option(help="Country for numbers without +code, e.g. US.")] = None,
    actor: As = None,
) -> None:
    """Load subscribers from a CSV file: good rows are imported, bad rows reported by line (exit 1)."""
    from ..audience.csv_import import import_csv

    if not file.is_file():
        raise InvalidInput(f"{file}: no such file")
    report = import_csv(get_settings(), who(actor), file, region)
    out.print(f"{report.imported} imported, {report.updated} updated, {report.unchanged} unchanged, "
              f"{report.rejected} rejected")
    for _line, message in report.errors:
        err.print(f"{file}: {escape(message)}", highlight=False, soft_wrap=True)
    if report.errors:
        raise typer.Exit(1)


MOST_LISTED = 1000  # a page; `--offset` goes on from where one ends


@subscribers_app.command("list")
def subscribers_list(
    search: Annotated[str, typer.Option(help="Only those with this in any address (email, phone, webhook URL).")] = "",
    limit: Annotated[int, typer.Option(min=1, max=MOST_LISTED, help="How many to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="How many to skip (the next page starts where one ends).")] = 0,
    as_json: AsJson = False,
) -> None:
    """Find subscribers: their id (for `remove`), addresses, language and components."""
    from ..audience import subscribers

    found = subscribers.list_subscribers(get_settings(), search.strip(), limit, offset)
    if as_json:
        return print_json(found)
    table = Table("id", "addresses", "language", "components", "state")
    for sub in found["items"]:
        addresses = [str(value) for key, value in sub.items()
                     if key not in ("id", "locale", "components", "opted_out") and value]
        table.add_row(str(sub["id"]), escape("\n".join(addresses)), sub["locale"] or "",
                      escape(", ".join(sub["components"]) or "every component"),
                      "opted out" if sub["opted_out"] else "subscribed")
    out.print(table)
    shown = f"{offset + 1}-{offset + len(found['items'])}" if found["items"] else "none"
    more = f"; the next page: --offset {found['next_offset']}" if found["next_offset"] is not None else ""
    out.print(f"{shown} of {found['total']}" + (f" matching {search.strip()!r}" if search.strip() else "") + more,
              highlight=False)


@subscribers_app.command("remove")
def subscribers_remove(
    subscriber_id: Annotated[int, typer.Argument(help="Its id, from `broadcaster subscribers list --search ...`.")],
    actor: As = None,
) -> None:
    """Forget a subscriber: nothing more is sent to them (admins only). Their past sends stay in the send log."""
    from ..audience import subscribers

    gone = subscribers.remove_subscriber(get_settings(), who(actor), subscriber_id)
    out.print(f"subscriber {gone['id']} removed ({escape(fields_said(gone, 'locale'))}): nothing more is sent "
              "to them; their past sends stay in the send log", highlight=False)
