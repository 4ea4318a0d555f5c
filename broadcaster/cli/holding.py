"""`broadcaster holding ...`: holding statements, kept ready in calm times and switched on in an
outage, and the standing emailed links to switch them on from a phone."""

from typing import Annotated, Optional

import typer
from rich.markup import escape

from .common import HOLDING, ID_ARGUMENT, As, AsJson, StatementId, Wait, app, get_settings, out, print_json, who
from .sending import follow, sender_settings
from .views import plural

holding_app = typer.Typer(no_args_is_help=True, help="Holding statements: approved in calm times, switched on in "
                                                     "an outage (here, the dashboard, SMS or an emailed link).")
app.add_typer(holding_app, name="holding", rich_help_panel=HOLDING)


@holding_app.command("list")
def holding_list(as_json: AsJson = False) -> None:
    """Holding statements ready to switch on, with their emailed links."""
    from ..holding import emailed_links

    ready = emailed_links.ready_with_links(get_settings())
    if as_json:
        return print_json(ready)
    for h in ready:
        valid = [link["user"] for link in h["links"] if link["state"] == "valid"]
        out.print(f"#{h['number']}  statement {h['statement_id']}  {escape(h['incident_title'])}: "
                  f"{escape(h['headline'])}  (valid links: {', '.join(valid) or 'none'})", highlight=False)
    if not ready:
        out.print("no holding statements: approve a statement with next update 'none', then `holding keep ID`")


@holding_app.command("keep", context_settings=ID_ARGUMENT)
def holding_keep(statement_id: StatementId, actor: As = None) -> None:
    """Keep an approved statement as a holding statement; email each person who may switch it on
    their standing link."""
    from ..holding import emailed_links, holding_statements

    settings = get_settings()
    by = who(actor)
    kept = holding_statements.keep(settings, by, statement_id)
    out.print(f"holding statement #{kept['number']}: statement {kept['statement_id']} "
              f"({escape(kept['headline'])})", highlight=False)
    _print_links(emailed_links.send_links(settings, by, kept["number"]), by.name)


@holding_app.command("links", context_settings=ID_ARGUMENT)
def holding_links_command(
    number: int,
    to: Annotated[Optional[list[str]], typer.Option("--to", help="A user to send a fresh link to (repeatable); "
                                                    "default: everyone who may switch it on.")] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke every link of this holding statement instead.")]
    = False,
    actor: As = None,
) -> None:
    """Email fresh standing links (each revokes that person's older one once its email has gone), or
    revoke them all. Links go only to users' registered addresses, never to an address given here.
    With no email provider (the `log` provider) nothing is emailed, and your own link is printed here
    (never logged), so you can try it on this machine."""
    from ..holding import emailed_links

    settings = get_settings()
    by = who(actor)
    if revoke:
        result = emailed_links.revoke_links(settings, by, number)
        out.print(f"holding statement #{number}: {plural(result['revoked'], 'link', 'links')} revoked")
        return
    _print_links(emailed_links.send_links(settings, by, number, to or None), by.name)


@holding_app.command("activate", context_settings=ID_ARGUMENT)
def holding_activate(ctx: typer.Context, number: int, actor: As = None, wait: Wait = True) -> None:
    """Switch a holding statement on: published on every channel at once."""
    from ..holding import holding_statements

    settings = sender_settings(ctx)
    follow(settings, holding_statements.activate(settings, who(actor), number, via="CLI"), wait)


def _print_links(result: dict, me: str = "") -> None:
    from ..channels.log import LOG_PROVIDER

    for sent in result["sent"]:
        if sent.provider == LOG_PROVIDER:
            out.print(f"link for {sent.user} <{sent.email}> logged, not sent (no email provider configured, or "
                      f"BROADCASTER_SIMULATE is on), valid until {sent.expires_at[:16]}", highlight=False)
            if sent.user == me:
                out.print(f"your link: {sent.url}", highlight=False, soft_wrap=True)
            continue
        out.print(f"link emailed to {sent.user} <{sent.email}> ({sent.provider}), valid until {sent.expires_at[:16]}",
                  highlight=False)
    for skipped in result["skipped"]:
        out.print(f"no link for {skipped['user']}: {escape(skipped['reason'])}", highlight=False)
