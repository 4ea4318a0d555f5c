"""Sending and its record: `publish`, `retry`, `sweep`, `log`, `audit`."""

import csv
import sys
import time
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from .. import audit as auditing
from .. import publish as publishing
from ..config import get_settings
from ..delivery import progress, sweep as sweeping
from ..delivery.enqueue import enqueue_due
from .common import ID_ARGUMENT, As, AsJson, app, out, print_json, who
from .run import embedded_worker
from .views import print_audit, progress_table


@app.command(context_settings=ID_ARGUMENT)
def publish(statement_id: int, actor: As = None,
            wait: Annotated[bool, typer.Option(help="Show progress until the fan-out is done.")] = True) -> None:
    """Send the approved renditions, byte for byte, to every channel."""
    settings = get_settings()
    st = publishing.publish(settings, who(actor), statement_id)
    out.print(f"statement {st['id']} published: {st['deliveries']} deliveries"
              + (f", {st['cancelled']} unsent deliveries of the previous version cancelled" if st["cancelled"] else ""))
    if wait or settings.embedded:
        with embedded_worker(settings):
            watch(settings, st["id"])


@app.command(context_settings=ID_ARGUMENT)
def retry(statement_id: int, actor: As = None,
          failed: Annotated[bool, typer.Option("--failed", help="Resend failed deliveries.")] = False,
          unknown: Annotated[bool, typer.Option("--unknown", help="Resend deliveries whose fate is unknown "
                                                "(the worker died mid-call and the provider could not say).")] = False,
          ) -> None:
    """Re-queue what an operator decides to resend."""
    statuses = tuple(name for name, chosen in (("failed", failed), ("unknown", unknown)) if chosen)
    settings = get_settings()
    count = publishing.retry(settings, who(actor), statement_id, statuses)
    out.print(f"statement {statement_id}: {count} deliveries re-queued")
    with embedded_worker(settings):
        watch(settings, statement_id)


@app.command()
def sweep() -> None:
    """Run the periodic sweep once now: expired leases, reconciliation, due retries."""
    settings = get_settings()
    result = sweeping.sweep(settings, enqueue_due)
    out.print(", ".join(f"{n} {what}" for what, n in result.items()))
    if settings.embedded and result["requeued"]:
        with embedded_worker(settings):
            _drain(settings)


def watch(settings, statement_id: int, poll: float = 0.3) -> None:
    """Live progress per channel until nothing is in flight; Ctrl-C stops watching, not sending."""
    from rich.live import Live

    try:
        with Live(progress_table(statement_id, progress.progress(settings, statement_id)), console=out, refresh_per_second=4) as live:
            while True:
                counts = progress.progress(settings, statement_id)
                live.update(progress_table(statement_id, counts))
                if not any(c.get("pending", 0) + c.get("sending", 0) for c in counts.values()):
                    break
                time.sleep(poll)
    except KeyboardInterrupt:
        out.print("stopped watching; the fan-out goes on" if not settings.embedded else
                  "stopped: the rest waits in the database; `broadcaster sweep` sends it")
        return
    waiting = sum(c.get("retry", 0) for c in counts.values())
    unknown = sum(c.get("unknown", 0) for c in counts.values())
    if waiting:
        out.print(f"{waiting} deliveries wait for a retry; "
                  + ("the beat sweep will send them" if not settings.embedded else "run `broadcaster sweep` later"))
    if unknown:
        out.print(f"{unknown} deliveries have an unknown fate: `broadcaster retry {statement_id} --unknown` "
                  "resends them after you check")


def _drain(settings) -> None:
    while progress.work_left(settings):
        time.sleep(0.2)


@app.command("log")
def log_(statement: Annotated[Optional[int], typer.Option()] = None,
         channel: Annotated[Optional[str], typer.Option()] = None,
         status: Annotated[Optional[str], typer.Option()] = None,
         recipient: Annotated[Optional[str], typer.Option(help="An email address or phone number.")] = None,
         as_json: AsJson = False,
         as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False) -> None:
    """The send log: every state change of every delivery."""
    events = auditing.send_log(get_settings(), statement, channel, status, recipient)
    if as_json:
        return print_json(events)
    if as_csv:
        if events:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(events[0]))
            writer.writeheader()
            writer.writerows(events)
        return
    # The payload and error detail are in --json / --csv; the table is for scanning.
    table = Table("at (UTC)", "stmt", "channel", "target", "status", "try", "provider", "message id")
    for e in events:
        table.add_row(e["at"][11:19], f"{e['statement_id']} v{e['version']}", e["channel"], e["target"],
                      e["status"], str(e["attempt"]), e["provider"], e["provider_message_id"] or "")
    out.print(table)


@app.command()
def audit(as_json: AsJson = False) -> None:
    """Which version each channel shows, against the live one. Exit 1 if any channel is behind."""
    report = auditing.consistency_report(get_settings())
    if as_json:
        print_json(report)
    else:
        print_audit(out, report)
    raise typer.Exit(1 if report["drift"] else 0)
