"""`broadcaster user ...` and `broadcaster token ...`: the people who use Broadcaster, their roles
and their credentials for the web app and API."""

from typing import Annotated, Optional

import typer
from rich.table import Table

from .common import PEOPLE, As, AsJson, app, get_settings, out, print_json, who
from .views import user_said

user_app = typer.Typer(no_args_is_help=True, help="People who write, approve and publish statements.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens for scripts: one role of one user, revocable.")
app.add_typer(user_app, name="user", rich_help_panel=PEOPLE)
app.add_typer(token_app, name="token", rich_help_panel=PEOPLE)


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="author, approver or admin; repeat for several.")],
    email: Annotated[Optional[str], typer.Option(help="Where their approval requests (a link) and alert notices "
                                                       "are emailed.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="International format, e.g. +14155550100.")] = None,
    password: Annotated[bool, typer.Option("--password", help="Also set a dashboard password (prompted).")] = False,
    actor: As = None,
) -> None:
    """Add a person who writes, approves or publishes statements. The first user must be an admin;
    after that only an admin adds users (--as ADMIN)."""
    from ..people import users

    settings = get_settings()
    # Who acts, and whether they may add users, is settled before the password is typed twice (a missing
    # --as used to fail only after both prompts). The first user is added by nobody: a BROADCASTER_USER
    # exported before anyone exists (as the help suggests) names no one yet, and must not stop this command.
    by = who(actor) if users.has_users(settings) else None
    secret = None
    if password:
        from ..people import auth

        if by is not None:
            auth.authorize(settings, by, "manage users", f"user:{name}"[:200])
        secret = prompt_password()  # before the user is added: a typo must not leave a half-made user
        auth.check_password(secret)
    user = users.add_user(settings, by, name, role, email, phone)
    out.print(user_said(user), markup=False)
    if secret is not None:
        auth.set_password(get_settings(), user["name"], secret, by)
        out.print("password set")


@user_app.command("roles")
def user_roles(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="The new roles: author, approver, admin; repeatable.")],
    actor: As = None,
) -> None:
    """Change a user's roles (admins only)."""
    from ..people import users

    user = users.set_roles(get_settings(), who(actor), name, role)
    out.print(user_said(user), markup=False)


@user_app.command("slack")
def user_slack(
    name: str,
    slack_user_id: Annotated[Optional[str], typer.Argument(
        help="Their Slack member id, e.g. U0123ABCD (Slack: profile, ⋮, Copy member ID); leave out to clear.")] = None,
    actor: As = None,
) -> None:
    """Map a user to their Slack member (admins only): approval requests reach them as a Slack DM with
    Approve / Reject buttons, and their clicks act as this user."""
    from ..people import users

    user = users.set_slack_id(get_settings(), who(actor), name, slack_user_id)
    out.print(f"user {user['id']}: {user['name']} " + (f"is {user['slack_user_id']} in Slack"
                                                       if user["slack_user_id"] else "has no Slack member id"))


@user_app.command("list")
def user_list(as_json: AsJson = False) -> None:
    """Every user: roles, email, phone, Slack member id."""
    from ..people import users

    people = users.list_users(get_settings())
    if as_json:
        return print_json(people)
    table = Table("id", "name", "roles", "email", "phone", "slack")
    for u in people:
        table.add_row(str(u["id"]), u["name"], ", ".join(u["roles"]), u["email"] or "", u["phone"] or "",
                      u["slack_user_id"] or "")
    out.print(table)


def prompt_password() -> str:
    """Asked twice, never echoed, never a command-line argument (shell history, `ps`)."""
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@user_app.command("passwd")
def user_passwd(name: Annotated[Optional[str], typer.Argument(help="Whose password (default: yours).")] = None,
                actor: As = None) -> None:
    """Set a dashboard password, yours or (admins) anyone's; prompted, never echoed."""
    from ..people import auth

    by = who(actor)
    name = name or by.name
    auth.authorize_for(get_settings(), by, name, "manage users")  # asked before the password is typed
    auth.set_password(get_settings(), name, prompt_password(), by)
    out.print(f"password set for {name}")


@user_app.command("pin")
def user_pin(name: Annotated[Optional[str], typer.Argument(help="Whose PIN (default: yours).")] = None,
             actor: As = None) -> None:
    """Set the PIN texted to switch on a holding statement (`HOLD 2 <pin>`), yours or (admins) anyone's;
    prompted."""
    from ..holding import holding_statements
    from ..people import auth

    by = who(actor)
    name = name or by.name
    auth.authorize_for(get_settings(), by, name, "manage users")
    holding_statements.set_pin(get_settings(), name, typer.prompt("PIN (4 to 10 digits)", hide_input=True,
                                                                  confirmation_prompt=True), by)
    out.print(f"PIN set for {name}")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="One of that user's roles: author, approver or admin.")],
    user: Annotated[Optional[str], typer.Argument(help="The user the token acts as (default: you; someone else's: "
                                                       "admins).")] = None,
    actor: As = None,
) -> None:
    """Create an API token for one role of a user; it is shown once, only its hash is kept."""
    from ..people import auth

    by = who(actor)
    token = auth.create_token(get_settings(), user or by.name, role, by)
    out.print(f"token {token['id']} for {token['user']} as {token['role']}:")
    out.print(token["token"], highlight=False, soft_wrap=True)
    out.print("keep it now: it is shown only once. Send it as `Authorization: Bearer <token>`.")


@token_app.command("revoke")
def token_revoke(token_id: int, actor: As = None) -> None:
    """Revoke a token at once (yours, or admins: anyone's): the next request with it is refused."""
    from ..people import auth

    token = auth.revoke_token(get_settings(), token_id, who(actor))
    out.print(f"token {token['id']} ({token['user']}, {token['role']}) revoked")


@token_app.command("list")
def token_list(as_json: AsJson = False) -> None:
    """Every API token: its id (what `token revoke` takes), user, role, whether revoked, when last used."""
    from ..people import auth

    tokens = auth.list_tokens(get_settings())
    if as_json:
        return print_json(tokens)
    for t in tokens:
        out.print(f"{t['id']}  {t['user']}  {t['role']}  {'revoked' if t['revoked'] else 'active'}  "
                  f"last used {t['last_used_at'] or 'never'}")
