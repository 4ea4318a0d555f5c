"""`broadcaster demo`: the whole flow once, in a database of its own, with every channel on the
`log` provider whatever credentials are set: a demo never messages a real customer and never
touches the live banner."""

import secrets
from pathlib import Path
from typing import Annotated

import typer

from .common import OPERATIONS, app, get_settings, out
from .views import print_audit, print_preview, progress_table, published_line

DEMO_DATABASE = Path("broadcaster-demo.db")


@app.command(rich_help_panel=OPERATIONS)
def demo(database: Annotated[Path, typer.Option(help="The demo's own SQLite file.")] = DEMO_DATABASE) -> None:
    """Run the whole flow once: users, an incident, a statement, approval, publish, audit."""
    from ..approvals import decisions
    from ..audience import subscribers
    from ..delivery import progress
    from ..delivery.chunk import send_now
    from ..events import register_event_hooks
    from ..incidents import consistency, publishing, statements
    from ..incidents.statements import StatementInput
    from ..people import users
    from ..store.db import migrate
    from ..surfaces import register_switch_hooks

    base = get_settings()
    settings = base.model_copy(update={
        "database_url": f"sqlite:///{database}", "broker_url": "memory://", "simulate": True,
        "static_dir": None,  # the configured static export is the live banner's: never the demo's
        # Approvals are sealed: before `broadcaster init` there is no key yet, so the demo makes one.
        "secret_key": base.secret_key or secrets.token_urlsafe(32)})
    migrate(settings.database_url)
    register_event_hooks()
    register_switch_hooks()  # this process sends (a no-op here, without a static folder), like any sender
    out.print(f"[dim]demo database: {database} (every channel simulated; nothing leaves this machine)[/]")
    existing = {u["name"] for u in users.list_users(settings)}
    if "admin" not in existing:
        users.add_user(settings, None, "admin", ["admin"])  # the first user: only an admin adds others
    for name, role, contact in (("alice", "author", {"email": "alice@example.com"}),
                                ("bob", "approver", {"phone": "+14155550100"})):
        if name not in existing:
            users.add_user(settings, users.actor_named(settings, "admin"), name, [role], **contact)
    alice, bob = users.actor_named(settings, "alice"), users.actor_named(settings, "bob")
    if not statements.list_incidents(settings):
        subscribers.add_subscriber(settings, users.actor_named(settings, "admin"), email="customer@example.com",
                                   phone="+14155550123")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login", "API"])
    out.print(f"[dim]$ broadcaster incident open --title 'Login failures' --impact major --as alice[/]\n"
              f"incident {incident['id']}")
    statement = statements.draft(settings, alice, incident["id"], StatementInput(
        status="investigating", headline="Some customers cannot log in",
        body="Since 14:05 UTC about 1 in 5 login attempts fail. We are investigating.",
        workaround="If you are logged in, stay logged in; the mobile app is not affected", next_update="30m"))
    sid = statement["id"]
    out.print(f"[dim]$ broadcaster statement draft {incident['id']} --as alice ...[/]\nstatement {sid}")
    out.print(f"[dim]$ broadcaster preview {sid}[/]")
    print_preview(out, statements.preview(settings, sid))
    out.print(f"[dim]$ broadcaster submit {sid} --as alice[/]")
    submitted = statements.submit(settings, alice, sid)
    out.print(f"statement {sid} submitted: content hash {submitted['content_hash'][:12]}")
    out.print(f"[dim]$ broadcaster approve {sid} --as bob[/]")
    decisions.approve(settings, bob, sid)
    out.print(f"[dim]$ broadcaster publish {sid} --as alice[/]")
    # Sent in this process: the worker a broker would feed reads the configured database, not the demo's.
    published = publishing.publish(settings, alice, sid, dispatch=send_now)
    out.print(published_line(published))
    out.print(progress_table(sid, progress.progress(settings, sid)))
    out.print("[dim]$ broadcaster audit[/]")
    print_audit(out, consistency.consistency_report(settings))
