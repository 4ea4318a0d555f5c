"""`broadcaster social ...`: the social reply queue (pull, search, inbox, reply, approve, skip)."""

from functools import partial
from typing import Annotated, Optional

import typer
from rich.table import Column, Table

from ..domain.delivery_status import DeliveryStatus
from .common import SOCIAL, As, AsJson, Wait, app, get_settings, out, print_json, who
from .sending import follow_deliveries, sender_settings
from .views import plural

social_app = typer.Typer(no_args_is_help=True, help="Answer customers on X with approved words, one reply per post.")
app.add_typer(social_app, name="social", rich_help_panel=SOCIAL)


@social_app.command("pull")
def social_pull(actor: As = None, as_json: AsJson = False) -> None:
    """Fetch new mentions of the account (since the last one seen) into the inbox."""
    from .. import social

    result = social.pull(get_settings(), who(actor))
    if as_json:
        return print_json(result)
    out.print(f"{plural(result['new'], 'new post', 'new posts')} of {result['fetched']} read in "
              f"{plural(result['pages'], 'page', 'pages')}; "
              f"incident {result['incident_id'] or '-'}; next pull from id {result['since_id'] or '-'}")


@social_app.command("search")
def social_search(query: str, actor: As = None, as_json: AsJson = False) -> None:
    """Store recent posts matching QUERY that do not mention the account, for a person to answer by hand."""
    from .. import social

    result = social.search(get_settings(), who(actor), query)
    if as_json:
        return print_json(result)
    out.print(f"{plural(result['new'], 'new post', 'new posts')} in the human-only lane; "
              f"{result['left_to_pull']} mention the account "
              "(they come with `social pull`)")


@social_app.command("inbox")
def social_inbox(state: Annotated[Optional[str], typer.Option(help="Only posts in this state.")] = None,
                 incident: Annotated[Optional[int], typer.Option(help="Only posts about this incident.")] = None,
                 as_json: AsJson = False) -> None:
    """Posts with their state, who picked them up, the incident, and the reply budget."""
    from .. import social
    from ..social.inbox import PostState

    result = social.inbox(get_settings(), state, incident)
    if as_json:
        return print_json(result)
    table = Table("author", "text", "state", "by", "incident", "reply", "link / note")
    table.columns.insert(0, Column("post", no_wrap=True))  # the id people type into `social reply`: never cut
    for p in result["posts"]:
        reply = f"v{p['version']} variant {p['variant']}" if p["variant"] else ("free text" if p["free_text"] else "")
        extra = p["note"] or (p["url"] if p["state"] in (PostState.HUMAN_ONLY, PostState.NEW) else "")
        table.add_row(p["id"], p["author"] or "", p["text"], p["state"], p["picked_by"] or "",
                      str(p["incident_id"] or ""), reply, extra)
    out.print(table)
    b = result["budget"]
    rest = (f"; the other {b['after_this_window']} by {b['all_sent_by']}" if b["after_this_window"] else "")
    window = (f"resets {b['window_resets_at']}" if b["window_resets_at"] else
              "no post yet in a window: the next one starts it")
    out.print(f"replies that can go now: {b['replies_now']} (window {b['window_remaining']}/{b['window_limit']}, "
              f"{b['reserved_for_statements']} kept for statements, {window}); "
              f"queued {b['queued']}{rest}", highlight=False)


@social_app.command("reply")
def social_reply(ctx: typer.Context, post_id: str, actor: As = None,
                 variant: Annotated[Optional[int],
                                    typer.Option(help="Which approved variant (default: rotate).")] = None,
                 text: Annotated[Optional[str],
                                 typer.Option(help="Free text: held until an approver approves it.")] = None,
                 wait: Wait = True) -> None:
    """Reply to POST_ID from the live statement's approved variants (queued, then sent)."""
    from .. import social

    settings = sender_settings(ctx)
    if text is not None:
        result = social.propose(settings, who(actor), post_id, text)
        out.print(f"post {post_id}: free text awaiting approval (hash {result['hash'][:12]}); an approver runs "
                  f"`broadcaster social approve {post_id} --hash {result['hash'][:12]} --as NAME`")
        return
    result = social.reply(settings, who(actor), post_id, variant)
    out.print(f"post {post_id}: reply queued from v{result['version']} variant {result['variant']}: "
              f"{result['text']}", highlight=False)
    follow_deliveries(settings, [result["delivery_id"]], wait, partial(_say_reply, post_id))


@social_app.command("approve")
def social_approve(ctx: typer.Context, post_id: str,
                   content_hash: Annotated[str, typer.Option("--hash", help="The hash you read.")],
                   actor: As = None, wait: Wait = True) -> None:
    """Approve the free text proposed for POST_ID (approvers only, not its proposer); then it is sent."""
    from .. import social

    settings = sender_settings(ctx)
    result = social.approve_text(settings, who(actor), post_id, content_hash)
    out.print(f"post {post_id}: free text {result['hash'][:12]} approved and queued")
    follow_deliveries(settings, [result["delivery_id"]], wait, partial(_say_reply, post_id))


def _say_reply(post_id: str, shown: dict[int, str]) -> None:
    from ..delivery.progress import WAITING

    for delivery_id, status in shown.items():
        hint = {DeliveryStatus.SIMULATED: " (the log provider: X is not set up, or BROADCASTER_SIMULATE is on)",
                WAITING: ": waits for its next try (X's posting window, or a backoff after an error); the workers "
                         "(embedded: `broadcaster serve`) send it when it is due",
                DeliveryStatus.UNKNOWN: ": X did not say whether it posted; reconciliation finds out before anything "
                                        "is resent"}.get(status, "")
        out.print(f"post {post_id}: reply {status}{hint} (delivery {delivery_id}; `broadcaster log` has it)",
                  highlight=False)


@social_app.command("skip")
def social_skip(post_id: str, actor: As = None) -> None:
    """Mark POST_ID as needing no reply (or answered by hand)."""
    from .. import social

    social.skip(get_settings(), who(actor), post_id)
    out.print(f"post {post_id}: skipped")
