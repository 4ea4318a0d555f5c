"""`broadcaster events ...`: the endpoints that receive events (incident opened, statement published,
delivery failed, channel paused...) as Standard Webhooks."""

from typing import Annotated, Optional

import typer

from ..domain.event_types import EventType
from .common import OPERATIONS, As, AsJson, app, get_settings, out, print_json, who

events_app = typer.Typer(no_args_is_help=True, help="Events out: endpoints that receive what happens, signed.")
app.add_typer(events_app, name="events", rich_help_panel=OPERATIONS)
TYPES = ", ".join(t.value for t in EventType)


@events_app.command("add")
def events_add(
    url: Annotated[str, typer.Argument(help="https:// (http:// only to this machine).")],
    event_type: Annotated[Optional[list[str]], typer.Option(
        "--type", help=f"An event type it receives (repeat the option); none: every type but the internal "
        f"agent_notes.published. {TYPES}.")] = None,
    description: Annotated[str, typer.Option("--description", help="What it is, for the list.")] = "",
    actor: As = None,
) -> None:
    """Add an endpoint; its signing secret is printed this once."""
    from .. import events

    made = events.add_endpoint(get_settings(), who(actor), url=url, event_types=event_type or [],
                               description=description)
    out.print(f"event endpoint {made['id']}: {made['url']} ({', '.join(made['event_types'])})", highlight=False)
    out.print(f"Standard Webhooks secret (shown once): {made['secret']}", highlight=False, soft_wrap=True)


@events_app.command("list")
def events_list(as_json: AsJson = False, actor: As = None) -> None:
    """Each endpoint and the event types it receives (never its secret)."""
    from .. import events

    found = events.list_endpoints(get_settings(), who(actor))
    if as_json:
        return print_json(found)
    for x in found:
        out.print(f"{x['id']}  {x['url']}  {', '.join(x['event_types'])}  {x['description']}", highlight=False)
    if not found:
        out.print("no event endpoints (`broadcaster events add URL` adds one)")


@events_app.command("remove")
def events_remove(endpoint_id: int, actor: As = None) -> None:
    """The endpoint receives nothing more (what was already queued to it still goes)."""
    from .. import events

    gone = events.remove_endpoint(get_settings(), who(actor), endpoint_id=endpoint_id)
    out.print(f"removed event endpoint {gone['id']} ({gone['url']})", highlight=False)
