"""The `broadcaster` command. Every command calls one use case in ``publishing``; an error
is one clear line on stderr and a non-zero exit, never a traceback."""

import csv
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from rich.columns import Columns
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import OperationalError

from . import publishing
from .config import get_settings
from .domain.errors import BroadcasterError, InvalidInput
from .publishing import StatementInput
from .surfaces_cli import export, serve_public

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  help="Broadcaster: approve one outage statement, say it verbatim on every channel.")
user_app = typer.Typer(no_args_is_help=True, help="People who write, approve and publish statements.")
incident_app = typer.Typer(no_args_is_help=True, help="Incidents: what is broken.")
statement_app = typer.Typer(no_args_is_help=True, help="Statements: versioned updates about an incident.")
subscribers_app = typer.Typer(no_args_is_help=True, help="Customers who get email and SMS updates.")
app.add_typer(user_app, name="user")
app.add_typer(incident_app, name="incident")
app.add_typer(statement_app, name="statement")
app.add_typer(subscribers_app, name="subscribers")
app.command("export")(export)

out = Console()
err = Console(stderr=True)

As = Annotated[Optional[str], typer.Option("--as", envvar="BROADCASTER_USER", help="Who you are (a user name).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="broadcaster")
    except BroadcasterError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except OperationalError as exc:
        err.print(f"[bold red]error:[/] cannot use the database: {escape(str(exc.orig))}", highlight=False,
                  soft_wrap=True)
        sys.exit(1)


def _print_json(value) -> None:
    out.print_json(json.dumps(value, ensure_ascii=False, default=str))


# --- setup --------------------------------------------------------------------------------


@app.command()
def init() -> None:
    """Create the database, or migrate it to this version's schema."""
    settings = get_settings()
    revision = publishing.init(settings)
    out.print(f"database ready at schema {revision}: {settings.database_url}")


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="author, approver or admin; repeat for several.")],
    email: Annotated[Optional[str], typer.Option()] = None,
    phone: Annotated[Optional[str], typer.Option(help="International format, e.g. +14155550100.")] = None,
) -> None:
    """Add a person who writes, approves or publishes statements."""
    user = publishing.add_user(get_settings(), name, role, email, phone)
    out.print(f"user {user['id']}: {user['name']} ({', '.join(user['roles'])})")


@user_app.command("list")
def user_list(as_json: AsJson = False) -> None:
    users = publishing.list_users(get_settings())
    if as_json:
        return _print_json(users)
    table = Table("id", "name", "roles", "email", "phone")
    for u in users:
        table.add_row(str(u["id"]), u["name"], ", ".join(u["roles"]), u["email"] or "", u["phone"] or "")
    out.print(table)


@subscribers_app.command("add")
def subscribers_add(
    email: Annotated[Optional[str], typer.Option()] = None,
    phone: Annotated[Optional[str], typer.Option()] = None,
    component: Annotated[Optional[list[str]], typer.Option(help="Only incidents touching these.")] = None,
) -> None:
    """Subscribe one customer to email and/or SMS updates."""
    sub = publishing.add_subscriber(get_settings(), email, phone, component or [])
    out.print(f"subscriber {sub['id']}: {sub['email'] or ''} {sub['phone'] or ''}".rstrip())


@subscribers_app.command("import")
def subscribers_import(
    file: Annotated[Path, typer.Argument(help="CSV with a header: email, phone, locale, components.")],
    region: Annotated[Optional[str], typer.Option(help="Country for numbers without +code, e.g. US.")] = None,
) -> None:
    """Load subscribers from a CSV file: good rows are imported, bad rows reported by line (exit 1)."""
    from broadcaster.subscribers import import_csv

    if not file.is_file():
        raise InvalidInput(f"{file}: no such file")
    report = import_csv(get_settings(), file, region)
    out.print(f"{report.imported} imported, {report.updated} updated, {len(report.errors)} rejected")
    for _line, message in report.errors:
        err.print(f"{file}: {escape(message)}", highlight=False, soft_wrap=True)
    if report.errors:
        raise typer.Exit(1)


# --- incidents and statements -------------------------------------------------------------


@incident_app.command("open")
def incident_open(
    title: Annotated[str, typer.Option()],
    impact: Annotated[str, typer.Option(help="none, minor, major or critical.")],
    component: Annotated[Optional[list[str]], typer.Option(help="An affected service; repeat for several.")] = None,
    actor: As = None,
) -> None:
    """Open an incident; statements about it come next."""
    incident = publishing.open_incident(get_settings(), actor, title, impact, component or [])
    out.print(f"incident {incident['id']}: {incident['title']} ({incident['impact']})")


@incident_app.command("list")
def incident_list(as_json: AsJson = False) -> None:
    incidents = publishing.list_incidents(get_settings())
    if as_json:
        return _print_json(incidents)
    table = Table("id", "title", "impact", "status", "components", "opened")
    for i in incidents:
        table.add_row(str(i["id"]), i["title"], i["impact"], i["status"], ", ".join(i["components"]), i["opened_at"])
    out.print(table)


def _statement_input(file: Optional[Path], **flags) -> StatementInput:
    given = StatementInput.parse({k: v for k, v in flags.items() if v is not None}, "options")
    if file is None:
        return given
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{file}: not valid YAML: {exc}") from None
    return given.merged_over(StatementInput.parse(data, str(file)))


Status = Annotated[Optional[str], typer.Option(help="investigating, identified, monitoring or resolved.")]
Impact = Annotated[Optional[str], typer.Option(help="none, minor, major or critical (default: the incident's).")]
Components = Annotated[Optional[list[str]], typer.Option("--component", help="Affected service; repeatable.")]
Headline = Annotated[Optional[str], typer.Option(help="One line customers read first.")]
Body = Annotated[Optional[str], typer.Option(help="What is happening and who is affected.")]
Workaround = Annotated[Optional[str], typer.Option(help="What customers can do meanwhile.")]
NextUpdate = Annotated[Optional[str], typer.Option("--next-update", help="'30m', '2h' or an ISO time.")]
File = Annotated[Optional[Path], typer.Option("--file", help="YAML file with the same fields; options win.")]


@statement_app.command("draft")
def statement_draft(incident_id: int, actor: As = None, status: Status = None, impact: Impact = None,
                    components: Components = None, headline: Headline = None, body: Body = None,
                    workaround: Workaround = None, next_update: NextUpdate = None, file: File = None) -> None:
    """Draft a new version for an incident (an update starts from the latest version)."""
    given = _statement_input(file, status=status, impact=impact, components=components, headline=headline,
                             body=body, workaround=workaround, next_update=next_update)
    st = publishing.draft(get_settings(), actor, incident_id, given)
    out.print(f"statement {st['id']}: incident {st['incident_id']} v{st['version']} ({st['state']})")


@statement_app.command("edit")
def statement_edit(statement_id: int, actor: As = None, status: Status = None, impact: Impact = None,
                   components: Components = None, headline: Headline = None, body: Body = None,
                   workaround: Workaround = None, next_update: NextUpdate = None, file: File = None) -> None:
    """Change a statement. A submitted or approved one becomes a new draft version; its approvals are void."""
    given = _statement_input(file, status=status, impact=impact, components=components, headline=headline,
                             body=body, workaround=workaround, next_update=next_update)
    st = publishing.edit(get_settings(), actor, statement_id, given)
    note = "" if st["id"] == statement_id else f" (new version; statement {statement_id} is void)"
    out.print(f"statement {st['id']}: incident {st['incident_id']} v{st['version']} ({st['state']}){note}")


@statement_app.command("show")
def statement_show(statement_id: int, as_json: AsJson = False) -> None:
    st = publishing.get_statement(get_settings(), statement_id)
    if as_json:
        return _print_json(st)
    out.print(f"[bold]statement {st['id']}[/] incident {st['incident_id']} v{st['version']} - {st['state']}")
    for key in ("status", "impact", "components", "headline", "body", "workaround", "next_update_at", "author",
                "content_hash"):
        out.print(f"  {key}: {st[key]}", highlight=False)
    for a in st["approvals"]:
        out.print(f"  {a['decision']} by {a['by']} of {a['content_hash'][:12]} at {a['at']} {a['comment']}")


@statement_app.command("list")
def statement_list(incident: Annotated[Optional[int], typer.Option()] = None, as_json: AsJson = False) -> None:
    statements = publishing.list_statements(get_settings(), incident)
    if as_json:
        return _print_json(statements)
    table = Table("id", "incident", "v", "state", "status", "headline", "author")
    for st in statements:
        table.add_row(str(st["id"]), str(st["incident_id"]), str(st["version"]), st["state"], st["status"],
                      st["headline"], st["author"])
    out.print(table)


# --- the approval flow --------------------------------------------------------------------


@app.command()
def preview(statement_id: int, as_json: AsJson = False) -> None:
    """Every channel side by side, with each limit and how close it is."""
    result = publishing.preview(get_settings(), statement_id)
    if as_json:
        return _print_json(result)
    st = result["statement"]
    out.print(f"[bold]statement {st['id']}[/] incident {st['incident_id']} v{st['version']} ({st['state']}) "
              f"content hash [cyan]{result['content_hash'][:12]}[/]")
    panels = [_channel_panel(name, channel) for name, channel in result["channels"].items()]
    out.print(Columns(panels, equal=True, expand=True))
    broken = [lim for ch in result["channels"].values() for lim in ch["limits"] if not lim["ok"]]
    if broken:
        out.print(f"[bold red]{len(broken)} limit(s) broken: this statement cannot be submitted.[/]")


def _channel_panel(name: str, channel: dict) -> Panel:
    body = Text()
    for field, value in channel.items():
        if field in ("limits", "ok"):
            continue
        body.append(f"{field}\n", style="dim")
        body.append(f"{value}\n\n")
    for lim in channel["limits"]:
        usage = lim["measured"] / lim["limit"] if lim["limit"] else 0
        style = "green" if lim["ok"] else "bold red"
        body.append(f"{lim['name']}: {_n(lim['measured'])}/{_n(lim['limit'])} {lim['unit']} ({usage:.0%})", style)
        if not lim["ok"]:
            body.append(f" over by {_n(lim['excess'])}", style)
        if lim["detail"]:
            body.append(f"\n  {lim['detail']}", style="dim")
        body.append("\n")
    mark, colour = ("✓", "green") if channel["ok"] else ("✗", "red")
    return Panel(body, title=f"{name} {mark}", border_style=colour)


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


@app.command()
def submit(statement_id: int, actor: As = None) -> None:
    """Freeze a draft's renditions and ask for approval."""
    st = publishing.submit(get_settings(), actor, statement_id)
    out.print(f"statement {st['id']} submitted: content hash {st['content_hash'][:12]}, "
              f"needs {st['approvals_needed']} approval(s)")


@app.command()
def approve(statement_id: int, actor: As = None,
            content_hash: Annotated[Optional[str], typer.Option("--hash", help="The hash you previewed.")] = None,
            comment: Annotated[str, typer.Option()] = "") -> None:
    """Approve exactly the content you previewed."""
    st = publishing.approve(get_settings(), actor, statement_id, content_hash, comment)
    out.print(f"statement {st['id']}: approval {st['approvals']} of {st['approvals_needed']} "
              f"for {st['content_hash'][:12]} ({st['state']})")


@app.command()
def reject(statement_id: int, reason: Annotated[str, typer.Option()], actor: As = None) -> None:
    """Send a statement back to its author, saying why."""
    st = publishing.reject(get_settings(), actor, statement_id, reason)
    out.print(f"statement {st['id']}: rejected")


@app.command()
def withdraw(statement_id: int, actor: As = None) -> None:
    """Take back a draft, a submitted or an approved statement."""
    st = publishing.withdraw(get_settings(), actor, statement_id)
    out.print(f"statement {st['id']}: withdrawn")


@app.command()
def publish(statement_id: int, actor: As = None,
            wait: Annotated[bool, typer.Option(help="Show progress until the fan-out is done.")] = True) -> None:
    """Send the approved renditions, byte for byte, to every channel."""
    settings = get_settings()
    st = publishing.publish(settings, actor, statement_id, dispatch=enqueue_for(settings))
    out.print(f"statement {st['id']} published: {st['deliveries']} deliveries"
              + (f", {st['cancelled']} unsent deliveries of the previous version cancelled" if st["cancelled"] else ""))
    if wait or settings.embedded:
        with embedded_worker(settings):
            watch(settings, st["id"])


@app.command()
def retry(statement_id: int, actor: As = None,
          failed: Annotated[bool, typer.Option("--failed", help="Resend failed deliveries.")] = False,
          unknown: Annotated[bool, typer.Option("--unknown", help="Resend deliveries whose fate is unknown "
                                                "(the worker died mid-call and the provider could not say).")] = False,
          ) -> None:
    """Re-queue what an operator decides to resend."""
    statuses = tuple(name for name, chosen in (("failed", failed), ("unknown", unknown)) if chosen)
    settings = get_settings()
    count = publishing.retry(settings, actor, statement_id, statuses, dispatch=enqueue_for(settings))
    out.print(f"statement {statement_id}: {count} deliveries re-queued")
    with embedded_worker(settings):
        watch(settings, statement_id)


@app.command()
def sweep() -> None:
    """Run the periodic sweep once now: expired leases, reconciliation, due retries."""
    from broadcaster import sending

    settings = get_settings()
    result = sending.sweep(settings, _sweep_enqueue())
    out.print(", ".join(f"{n} {what}" for what, n in result.items()))
    if settings.embedded and result["requeued"]:
        with embedded_worker(settings):
            _drain(settings)


@app.command()
def worker(queues: Annotated[str, typer.Option(help="Comma-separated: live, bulk.")] = "live,bulk",
           concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2) -> None:
    """Start a Celery worker (needs BROADCASTER_BROKER_URL, e.g. redis://localhost:6379/0)."""
    settings = _shared_broker_settings("worker")
    from broadcaster.metrics import start_worker_metrics
    from workers.app import celery_app

    start_worker_metrics(settings)
    celery_app.worker_main(["worker", "-Q", queues, "--concurrency", str(concurrency), "--loglevel", "INFO",
                            "--without-gossip", "--without-mingle"])


@app.command()
def beat(schedule: Annotated[Path, typer.Option(help="Where beat keeps its state.")] = Path(
        ".broadcaster-beat")) -> None:
    """Start the sweep schedule (one per installation)."""
    _shared_broker_settings("beat")
    from workers.app import celery_app

    celery_app.start(["beat", "--schedule", str(schedule), "--loglevel", "INFO"])


@app.command()
def serve(host: Annotated[str, typer.Option()] = "127.0.0.1", port: Annotated[int, typer.Option()] = 8000,
          public: Annotated[bool, typer.Option("--public", help="Only the public status surfaces.")] = False) -> None:
    """Run the web app: provider callbacks, unsubscribe links, /metrics, /healthz. Embedded, it also
    runs the worker and the sweep in this process. --public: only the status surfaces, nothing else."""
    if public:
        return serve_public(host, port)
    import uvicorn

    from broadcaster.api.app import create_app

    settings = get_settings()
    if settings.embedded:
        publishing.init(settings)  # the laptop default needs no separate set-up step
    with embedded_worker(settings), embedded_sweep(settings):
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@contextmanager
def embedded_sweep(settings):
    """Beat's job, in a thread, for the embedded default."""
    if not settings.embedded:
        yield
        return
    from broadcaster import sending
    from broadcaster.background import every

    with every(settings.sweep_interval_seconds, lambda: sending.sweep(settings, _sweep_enqueue()), "sweep"):
        yield


def _shared_broker_settings(what: str):
    settings = get_settings()
    if settings.embedded:
        raise InvalidInput(f"{what}: a separate {what} needs a broker it can share; set BROADCASTER_BROKER_URL, "
                           "e.g. redis://127.0.0.1:6379/0 (the embedded default runs its worker inside "
                           "`broadcaster publish`)")
    return settings


def enqueue_for(settings):
    from workers.enqueue import enqueue

    return enqueue


def _sweep_enqueue():
    from workers.enqueue import enqueue_lost

    return enqueue_lost


@contextmanager
def embedded_worker(settings):
    """Embedded default: a worker in this process drains what was put on the memory broker.
    With a real broker the fleet's workers do it, and this does nothing."""
    if not settings.embedded:
        yield
        return
    from workers.app import celery_app
    from workers.embedded import in_process_worker

    with in_process_worker(celery_app):
        yield


STATUS_STYLE = {"sent": "green", "simulated": "green", "delivered": "green", "failed": "red", "retry": "yellow",
                "unknown": "magenta", "pending": "dim", "sending": "cyan", "cancelled": "dim"}


def watch(settings, statement_id: int, poll: float = 0.3) -> None:
    """Live progress per channel until nothing is in flight; Ctrl-C stops watching, not sending."""
    from rich.live import Live

    try:
        with Live(_progress_table(settings, statement_id), console=out, refresh_per_second=4) as live:
            while True:
                counts = _progress(settings, statement_id)
                live.update(_progress_table(settings, statement_id, counts))
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
    from sqlalchemy import func, select

    from broadcaster.sending import UNSENT
    from broadcaster.store.db import transaction
    from broadcaster.store.models import Delivery

    while True:
        with transaction(settings.database_url) as s:
            busy = s.scalar(select(func.count()).where(Delivery.status == "sending")) or 0
            ready = s.scalar(select(func.count()).where(Delivery.status.in_(UNSENT),
                                                        Delivery.next_attempt_at.is_(None))) or 0
        if not busy and not ready:
            return
        time.sleep(0.2)


def _progress(settings, statement_id: int) -> dict[str, dict[str, int]]:
    from broadcaster.sending import progress

    return progress(settings, statement_id)


def _progress_table(settings, statement_id: int, counts: dict | None = None) -> Table:
    from broadcaster.sending import DONE

    counts = counts if counts is not None else _progress(settings, statement_id)
    table = Table("channel", "total", "done", "failed", "retrying", "unknown", "pending", "", title=(
        f"statement {statement_id} fan-out"))
    for channel, by_status in sorted(counts.items()):
        total = sum(by_status.values())
        done = sum(by_status.get(k, 0) for k in DONE)
        bar_width = 20
        filled = int(bar_width * done / total) if total else 0
        table.add_row(channel, str(total), Text(str(done), "green"), Text(str(by_status.get("failed", 0)), "red"),
                      Text(str(by_status.get("retry", 0)), "yellow"), str(by_status.get("unknown", 0)),
                      str(by_status.get("pending", 0) + by_status.get("sending", 0)),
                      Text("█" * filled + "░" * (bar_width - filled), "green"))
    return table


# --- the record ---------------------------------------------------------------------------


@app.command("log")
def log_(statement: Annotated[Optional[int], typer.Option()] = None,
         channel: Annotated[Optional[str], typer.Option()] = None,
         status: Annotated[Optional[str], typer.Option()] = None,
         recipient: Annotated[Optional[str], typer.Option(help="An email address or phone number.")] = None,
         as_json: AsJson = False,
         as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False) -> None:
    """The send log: every state change of every delivery."""
    events = publishing.send_log(get_settings(), statement, channel, status, recipient)
    if as_json:
        return _print_json(events)
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
    report = publishing.audit(get_settings())
    if as_json:
        _print_json(report)
    else:
        for incident in report["incidents"]:
            table = Table("channel", "shows", "state", "outstanding", "failed",
                          title=f"incident {incident['incident_id']}: {incident['title']} "
                                f"(live: v{incident['live_version']})")
            for name, ch in incident["channels"].items():
                shows = f"v{ch['shows_version']}" if ch["shows_version"] else "-"
                style = "red" if ch["state"] == "behind" else ""
                table.add_row(name, shows, Text(ch["state"], style=style), str(ch["outstanding"]), str(ch["failed"]))
            out.print(table)
        if not report["incidents"]:
            out.print("no published statements yet")
        out.print("[bold red]drift: some channels are behind[/]" if report["drift"] else "all channels current")
    raise typer.Exit(1 if report["drift"] else 0)


# --- the five-minute tour -----------------------------------------------------------------


@app.command()
def demo() -> None:
    """Run the whole flow once on this database: users, an incident, a statement, approval, publish, audit."""
    settings = get_settings()
    publishing.init(settings)
    existing = {u["name"] for u in publishing.list_users(settings)}
    for name, role, contact in (("alice", "author", {"email": "alice@example.com"}),
                                ("bob", "approver", {"phone": "+14155550100"})):
        if name not in existing:
            publishing.add_user(settings, name, [role], **contact)
    if not publishing.list_incidents(settings):
        publishing.add_subscriber(settings, email="customer@example.com", phone="+14155550123")
    incident = publishing.open_incident(settings, "alice", "Login failures", "major", ["Login", "API"])
    out.print(f"[dim]$ broadcaster incident open --title 'Login failures' --impact major --as alice[/]\n"
              f"incident {incident['id']}")
    statement = publishing.draft(settings, "alice", incident["id"], StatementInput(
        status="investigating", headline="Some customers cannot log in",
        body="Since 14:05 UTC about 1 in 5 login attempts fail. We are investigating.",
        workaround="If you are logged in, stay logged in; the mobile app is not affected", next_update="30m"))
    sid = statement["id"]
    out.print(f"[dim]$ broadcaster statement draft {incident['id']} --as alice ...[/]\nstatement {sid}")
    out.print(f"[dim]$ broadcaster preview {sid}[/]")
    preview(sid, as_json=False)
    out.print(f"[dim]$ broadcaster submit {sid} --as alice[/]")
    submit(sid, "alice")
    out.print(f"[dim]$ broadcaster approve {sid} --as bob[/]")
    approve(sid, "bob", None, "")
    out.print(f"[dim]$ broadcaster publish {sid} --as alice[/]")
    publish(sid, "alice", wait=True)
    out.print("[dim]$ broadcaster audit[/]")
    audit(as_json=False)
