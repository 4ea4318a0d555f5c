"""`broadcaster approval link`: an approval link for a pending statement, minted on the server.

With no email provider (the `log` provider), an approver's emailed link is logged with its secret
hidden, rightly: reading a log must approve nothing. This is the local way in, for the person
who holds the database and the secret key: a fresh link for one approver, printed here, audited."""

import typer

from .common import APPROVALS, ID_ARGUMENT, As, StatementId, app, get_settings, out, who

approval_app = typer.Typer(no_args_is_help=True, help="Approval from a phone, tried from the terminal: `link` prints "
                                                        "the link an approver is emailed.")
app.add_typer(approval_app, name="approval", rich_help_panel=APPROVALS)


@approval_app.command("link", context_settings=ID_ARGUMENT)
def approval_link(statement_id: StatementId, actor: As = None) -> None:
    """Mint a fresh approval link for a statement waiting for approval, for the approver named by
    --as, and print it. Open it where `broadcaster serve` answers (BROADCASTER_PUBLIC_URL, or
    http://127.0.0.1:8080); it is single-use and expires like an emailed one."""
    from ..approvals import by_phone

    link = by_phone.mint_link(get_settings(), who(actor), statement_id)
    out.print(f"approval link for {link['approver']}, {link['statement']}, valid until {link['expires_at'][:16]} "
              "UTC, single use:", highlight=False, soft_wrap=True)
    out.print(link["url"], highlight=False, soft_wrap=True)
