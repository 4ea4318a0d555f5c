"""`broadcaster user passwd` and `broadcaster token ...`: credentials for the web app and API."""

from typing import Annotated

import typer

from .. import auth
from ..config import get_settings
from .common import AsJson, app, out, print_json
from .people import user_app

token_app = typer.Typer(no_args_is_help=True, help="API tokens for scripts: one role of one user, revocable.")
app.add_typer(token_app, name="token")


def prompt_password() -> str:
    """Asked twice, never echoed, never a command-line argument (shell history, `ps`)."""
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@user_app.command("passwd")
def user_passwd(name: str) -> None:
    """Set a user's dashboard password (prompted, never echoed)."""
    auth.set_password(get_settings(), name, prompt_password())
    out.print(f"password set for {name}")


@user_app.command("pin")
def user_pin(name: str) -> None:
    """Set the PIN a user texts to switch on a holding statement (`HOLD 2 <pin>`); prompted."""
    from .. import holding

    holding.set_pin(get_settings(), name, typer.prompt("PIN (4 to 10 digits)", hide_input=True,
                                                       confirmation_prompt=True))
    out.print(f"PIN set for {name}")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--as", help="The user the token acts as.")],
    role: Annotated[str, typer.Option(help="One of that user's roles: author, approver or admin.")],
) -> None:
    """Create an API token; it is shown once, only its hash is kept."""
    token = auth.create_token(get_settings(), name, role)
    out.print(f"token {token['id']} for {token['user']} as {token['role']}:")
    out.print(token["token"], highlight=False, soft_wrap=True)
    out.print("keep it now: it is shown only once. Send it as `Authorization: Bearer <token>`.")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token at once: the next request with it is refused."""
    token = auth.revoke_token(get_settings(), token_id)
    out.print(f"token {token['id']} ({token['user']}, {token['role']}) revoked")


@token_app.command("list")
def token_list(as_json: AsJson = False) -> None:
    tokens = auth.list_tokens(get_settings())
    if as_json:
        return print_json(tokens)
    for t in tokens:
        out.print(f"{t['id']}  {t['user']}  {t['role']}  {'revoked' if t['revoked'] else 'active'}  "
                  f"last used {t['last_used_at'] or 'never'}")
