"""Sending and its record: `publish`, `retry`, `sweep`, `log`, `audit`."""

import sys
from typing import Annotated, Optional

import typer
from rich.table import Column, Table

from ..domain.delivery_status import DeliveryStatus
from .common import (
    ID_ARGUMENT,
    INCIDENTS,
    OPERATIONS,
    As,
    AsJson,
    StatementId,
    Wait,
    app,
    err,
    get_settings,
    out,
    print_json,
    who,
)
from .run import embedded_worker
from .sending import drain, follow, follow_statements, sender_settings
from .views import plural, print_audit, whole

WIDE = 120  # columns from which `log` also shows the provider and its message id


@app.command(context_settings=ID_ARGUMENT, rich_help_panel=INCIDENTS)
def publish(ctx: typer.Context, statement_id: StatementId, actor: As = None, wait: Wait = True) -> None:
    """Send the approved renditions, byte for byte, to every channel."""
    from ..incidents import publishing

    settings = sender_settings(ctx)
    follow(settings, publishing.publish(settings, who(actor), statement_id), wait)


@app.command(context_settings=ID_ARGUMENT, rich_help_panel=OPERATIONS)
def retry(ctx: typer.Context, statement_id: StatementId, actor: As = None,
          failed: Annotated[bool, typer.Option("--failed", help="Resend failed deliveries.")] = False,
          unknown: Annotated[bool, typer.Option("--unknown", help="Resend deliveries whose fate is unknown "
                                                "(the worker died mid-call and the provider could not say).")] = False,
          wait: Wait = True) -> None:
    """Re-queue what an operator decides to resend."""
    from ..incidents import publishing

    statuses = tuple(status for status, chosen in ((DeliveryStatus.FAILED, failed), (DeliveryStatus.UNKNOWN, unknown))
                     if chosen)
    settings = sender_settings(ctx)
    count = publishing.retry(settings, who(actor), statement_id, statuses)
    out.print(f"statement {statement_id}: {plural(count, 'delivery', 'deliveries')} re-queued")
    follow_statements(settings, [statement_id] if count else [], wait)


@app.command(rich_help_panel=OPERATIONS)
def sweep(ctx: typer.Context, actor: As = None) -> None:
    """Run the periodic sweep once now: expired leases, reconciliation, due retries (embedded: and send them)."""
    from ..delivery.enqueue import enqueue_due
    from ..incidents import publishing

    settings = sender_settings(ctx)
    result = publishing.sweep_now(settings, who(actor), enqueue_due)
    out.print(", ".join(f"{n} {what}" for what, n in result.items()))
    if settings.embedded and (result["requeued"] or result["fan-outs resumed"]):
        with embedded_worker(settings):
            drain(settings)


@app.command("log", rich_help_panel=OPERATIONS)
def log_(statement: Annotated[Optional[int], typer.Option(help="Only this statement's sends (its id).")] = None,
         channel: Annotated[Optional[str], typer.Option(
             help="Only this channel, named as the log names it: email, sms, status_page...")] = None,
         status: Annotated[Optional[str], typer.Option(
             help=f"Only the changes to this status: {', '.join(DeliveryStatus)}.")] = None,
         recipient: Annotated[Optional[str], typer.Option(help="An email address or phone number.")] = None,
         limit: Annotated[Optional[int], typer.Option(help="At most this many events (a page).")] = None,
         after: Annotated[Optional[int], typer.Option(help="Events after this event id (the next page).")] = None,
         kind: Annotated[Optional[str], typer.Option(
             help="statement, or a message's kind: approval request, signup confirmation, holding link, "
                  "update reminder, alert notice, postmortem, event (events out).")] = None,
         verify: Annotated[bool, typer.Option("--verify", help="Recompute each line's content hash from the "
                                              "stored words; exit 1 on any difference.")] = False,
         as_json: AsJson = False,
         as_csv: Annotated[bool, typer.Option("--csv", help=(
             "CSV on stdout; a cell that would start a spreadsheet formula (= + - @) gets a ' in front "
             "(--json has the raw values)."))] = False) -> None:
    """The send log: every state change of every delivery, a statement's or a message's."""
    from ..delivery import sendlog

    events = sendlog.send_log(get_settings(), statement, channel, status, recipient, limit=limit, after=after,
                              verify=verify, kind=kind)
    if verify:
        _print_verification(events)
    if as_json:
        return print_json(events)
    if as_csv:
        if events:
            from ..render.spreadsheet_csv import SafeDictWriter  # a formula-like cell gets a ' in front

            writer = SafeDictWriter(sys.stdout, fieldnames=list(events[0]))
            writer.writeheader()
            writer.writerows(events)
        return
    # The payload and error detail are in --json / --csv; the table is for scanning. The channel and the
    # status (what the README says to look for: sent, simulated) are never cut; the words and the target
    # wrap; the provider and its message id show only where there is room (at 80 columns they squeezed
    # every column to "pendi…", "custom…").
    wide = out.width >= WIDE
    table = Table("id", "at (UTC)", Column("words", overflow="fold"), whole("channel", (e["channel"] for e in events)),
                  Column("target", overflow="fold", ratio=1), whole("status", (e["status"] for e in events)),
                  whole("try", ()), *(("provider", Column("message id", overflow="fold")) if wide else ()))
    for e in events:
        words = f"{e['statement_id']} v{e['version']}" if e["statement_id"] else f"{e['kind']} ({e['subject']})"
        words += f" {e['locale']}" if e["locale"] else ""  # the language of the words
        table.add_row(str(e["id"]), e["at"][11:19], words, e["channel"], e["target"], e["status"],
                      str(e["attempt"]), *((e["provider"], e["provider_message_id"] or "") if wide else ()))
    out.print(table)
    if events and not wide:
        out.print(f"(provider and message id: at {WIDE} columns or more, or with --json or --csv)", style="dim",
                  highlight=False)
    if limit and len(events) == limit:
        out.print(f"more: --after {events[-1]['id']}")
    if verify and any(not e["verified"] for e in events):
        raise typer.Exit(1)


def _print_verification(events: list[dict]) -> None:
    bad = [e for e in events if not e["verified"]]
    for e in bad[:20]:
        err.print(f"event {e['id']} ({e['subject']} {e['channel']} {e['target']} {e['status']}): "
                  f"content hash {(e['content_hash'] or 'missing')[:12]} is not the hash of the stored words")
    err.print(f"{len(events) - len(bad)} of {len(events)} events carry the hash of the words stored now"
              + (f"; {len(bad)} differ" if bad else ""))


@app.command(rich_help_panel=OPERATIONS)
def status(as_json: AsJson = False) -> None:
    """Delivery health: paused channels (and why), and deliveries by status. Exit 1 if any channel is paused."""
    from ..delivery import progress
    from ..delivery.pause import paused_channels

    settings = get_settings()
    report = {"paused": paused_channels(settings), "deliveries": progress.totals(settings)}
    if as_json:
        print_json(report)
    else:
        for name, pause in report["paused"].items():
            out.print(f"[bold red]{name} paused[/] since {pause['since']}: {pause['reason']}", highlight=False)
        if not report["paused"]:
            out.print("no channel paused")
        out.print(", ".join(f"{n} {what}" for what, n in report["deliveries"].items()) or "no deliveries yet")
    raise typer.Exit(1 if report["paused"] else 0)


@app.command(rich_help_panel=OPERATIONS)
def audit(as_json: AsJson = False) -> None:
    """Which version each channel shows, against the live one. Exit 1 if any channel is behind."""
    from ..incidents import consistency

    report = consistency.consistency_report(get_settings())
    if as_json:
        print_json(report)
    else:
        print_audit(out, report)
    raise typer.Exit(1 if report["drift"] else 0)
