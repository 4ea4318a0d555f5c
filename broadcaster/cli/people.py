"""`broadcaster user ...` and `broadcaster subscribers ...`."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .. import people
from ..config import get_settings
from ..domain.errors import InvalidInput
from ..subscribers import import_csv
from .common import As, AsJson, app, err, out, print_json, who

user_app = typer.Typer(no_args_is_help=True, help="People who write, approve and publish statements.")
subscribers_app = typer.Typer(no_args_is_help=True, help="Customers who get updates by email, SMS or webhook.")
app.add_typer(user_app, name="user")
app.add_typer(subscribers_app, name="subscribers")


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="author, approver or admin; repeat for several.")],
    email: Annotated[Optional[str], typer.Option()] = None,
    phone: Annotated[Optional[str], typer.Option(help="International format, e.g. +14155550100.")] = None,
    password: Annotated[bool, typer.Option("--password", help="Also set a dashboard password (prompted).")] = False,
    actor: As = None,
) -> None:
    """Add a person who writes, approves or publishes statements. The first user must be an admin;
    after that only an admin adds users (--as ADMIN)."""
    from ..auth import check_password
    from .auth import prompt_password

    secret = prompt_password() if password else None  # asked first: a typo must not leave a half-made user
    if secret is not None:
        check_password(secret)
    settings = get_settings()
    by = who(actor) if actor or people.has_users(settings) else None
    user = people.add_user(settings, by, name, role, email, phone)
    out.print(f"user {user['id']}: {user['name']} ({', '.join(user['roles'])})")
    if secret is not None:
        from ..auth import set_password

        set_password(get_settings(), user["name"], secret)
        out.print("password set")


@user_app.command("roles")
def user_roles(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="The new roles: author, approver, admin; repeatable.")],
    actor: As = None,
) -> None:
    """Change a user's roles (admins only)."""
    user = people.set_roles(get_settings(), who(actor), name, role)
    out.print(f"user {user['id']}: {user['name']} ({', '.join(user['roles'])})")


@user_app.command("list")
def user_list(as_json: AsJson = False) -> None:
    users = people.list_users(get_settings())
    if as_json:
        return print_json(users)
    table = Table("id", "name", "roles", "email", "phone")
    for u in users:
        table.add_row(str(u["id"]), u["name"], ", ".join(u["roles"]), u["email"] or "", u["phone"] or "")
    out.print(table)


@subscribers_app.command("add")
def subscribers_add(
    email: Annotated[Optional[str], typer.Option()] = None,
    phone: Annotated[Optional[str], typer.Option()] = None,
    address: Annotated[Optional[list[str]], typer.Option(
        help="FIELD=VALUE for any other channel's address, e.g. webhook_url=https://example.com/hook.")] = None,
    component: Annotated[Optional[list[str]], typer.Option(help="Only incidents touching these.")] = None,
) -> None:
    """Subscribe one customer to updates: email, SMS, a webhook, or several."""
    addresses = {"email": email, "phone": phone, **dict(_field_value(a) for a in address or [])}
    sub = people.add_subscriber(get_settings(), component or [], **addresses)
    shown = " ".join(f"{k}={v}" for k, v in sub.items() if k != "id" and v)
    out.print(f"subscriber {sub['id']}: {escape(shown)}", highlight=False)
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
) -> None:
    """Load subscribers from a CSV file: good rows are imported, bad rows reported by line (exit 1)."""
    if not file.is_file():
        raise InvalidInput(f"{file}: no such file")
    report = import_csv(get_settings(), file, region)
    out.print(f"{report.imported} imported, {report.updated} updated, {report.unchanged} unchanged, "
              f"{report.rejected} rejected")
    for _line, message in report.errors:
        err.print(f"{file}: {escape(message)}", highlight=False, soft_wrap=True)
    if report.errors:
        raise typer.Exit(1)
