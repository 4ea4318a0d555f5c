"""`broadcaster demo`: the whole flow once, in a database of its own, with every channel on the
`log` provider whatever credentials are set: a demo never messages a real customer and never
touches the live banner.

Each step is echoed as the `broadcaster` command that does the same, built from the very arguments
the step is given, so a reader can paste it (after `broadcaster init`, as the README's tour does) and
get the same answer. Each run starts from an empty database: one an earlier demo made is replaced;
a file the demo did not make is refused, never deleted."""

import secrets
from pathlib import Path
from typing import Annotated

import typer

from ..domain.errors import InvalidInput
from .common import OPERATIONS, app, get_settings, out
from .views import fields_said, plural, print_audit, print_preview, progress_table, published_line, user_said

DEMO_DATABASE = Path("broadcaster-demo.db")
# Written into the SQLite header (`PRAGMA application_id`, a field SQLite keeps for exactly this) of a
# database the demo makes: the next run replaces only a file that carries it ("BDMO").
DEMO_MARK = 0x42444D4F
ADMIN = "root"  # the README's tour's admin
PEOPLE = (("alice", "author", ("--email", "alice@example.com")), ("bob", "approver", ("--phone", "+14155550100")))
CUSTOMER = ("--email", "customer@example.com", "--phone", "+14155550123")
INCIDENT = {"title": "Login failures", "impact": "major", "components": ["Login", "API"]}
DRAFT = {"status": "investigating", "headline": "Some customers cannot log in",
         "body": "Since 14:05 UTC about 1 in 5 login attempts fail. We are investigating.",
         "workaround": "If you are logged in, stay logged in; the mobile app is not affected", "next_update": "30m"}


@app.command(rich_help_panel=OPERATIONS)
def demo(database: Annotated[Path, typer.Option(help="The demo's own SQLite file.")] = DEMO_DATABASE) -> None:
    """Run the whole flow once: users, an incident, a statement, approval, publish, audit."""
    from ..approvals import decisions
    from ..approvals.by_phone import notify_approvers
    from ..audience import subscribers
    from ..delivery import progress
    from ..delivery.chunk import send_now
    from ..events import register_event_hooks
    from ..incidents import consistency, publishing, statements
    from ..incidents.statements import StatementInput
    from ..people import users
    from ..surfaces import register_switch_hooks

    base = get_settings()
    settings = base.model_copy(update={
        # The absolute path: a process's engines are kept by URL, and a relative one names another file
        # in another working directory (the tests run the demo in one process from folder to folder).
        "database_url": f"sqlite:///{database.resolve()}", "broker_url": "memory://", "simulate": True,
        "static_dir": None,  # the configured static export is the live banner's: never the demo's
        # Approvals are sealed: before `broadcaster init` there is no key yet, so the demo makes one.
        "secret_key": base.secret_key or secrets.token_urlsafe(32)})
    replaced = _fresh_database(database, settings.database_url)
    register_event_hooks()
    register_switch_hooks()  # this process sends (a no-op here, without a static folder), like any sender
    anew = " (the earlier demo's was removed)" if replaced else ""
    out.print(f"[dim]demo database: {database}, new{anew}; every channel simulated, nothing leaves this machine[/]")

    _echo("user", "add", ADMIN, "--role", "admin")  # the first user needs no --as: only an admin adds others
    out.print(user_said(users.add_user(settings, None, ADMIN, ["admin"])), markup=False)
    root = users.actor_named(settings, ADMIN)
    for name, role, (option, address) in PEOPLE:
        _echo("user", "add", name, "--role", role, option, address, "--as", ADMIN)
        added = users.add_user(settings, root, name, [role], **{option.lstrip("-"): address})
        out.print(user_said(added), markup=False)
    alice, bob = users.actor_named(settings, "alice"), users.actor_named(settings, "bob")
    _echo("subscribers", "add", *CUSTOMER, "--as", ADMIN)
    customer = subscribers.add_subscriber(settings, root, **{option.lstrip("-"): value for option, value
                                                            in zip(CUSTOMER[::2], CUSTOMER[1::2], strict=True)})
    out.print(f"subscriber {customer['id']}: {fields_said(customer)}", highlight=False, markup=False)

    _echo("incident", "open", "--title", INCIDENT["title"], "--impact", INCIDENT["impact"],
          *[word for component in INCIDENT["components"] for word in ("--component", component)], "--as", "alice")
    incident = statements.open_incident(settings, alice, INCIDENT["title"], INCIDENT["impact"], INCIDENT["components"])
    out.print(f"incident {incident['id']}: {incident['title']} ({incident['impact']})", markup=False)

    _echo("statement", "draft", str(incident["id"]), "--as", "alice",
          *[word for field, value in DRAFT.items() for word in (f"--{field.replace('_', '-')}", value)])
    statement = statements.draft(settings, alice, incident["id"], StatementInput(**DRAFT))
    sid = statement["id"]
    out.print(f"statement {sid}: incident {statement['incident_id']} v{statement['version']} ({statement['state']})")

    _echo("preview", str(sid))
    print_preview(out, statements.preview(settings, sid))

    _echo("submit", str(sid), "--as", "alice")
    submitted = statements.submit(settings, alice, sid)
    content_hash = submitted["content_hash"][:12]
    out.print(f"statement {sid} submitted: content hash {content_hash}, "
              f"needs {plural(submitted['approvals_needed'], 'approval', 'approvals')}")
    # As `submit` does: the approvers are asked (here bob, by a simulated SMS code), sent in this process.
    for asked in notify_approvers(settings, sid, dispatch=send_now):
        out.print(f"asked {asked.user} by {asked.kind} ({asked.provider})")

    _echo("approve", str(sid), "--as", "bob", "--hash", content_hash)
    approved = decisions.approve(settings, bob, sid, content_hash)
    out.print(f"statement {sid}: approval {approved['approvals']} of {approved['approvals_needed']} "
              f"for {approved['content_hash'][:12]} ({approved['state']})")

    _echo("publish", str(sid), "--as", "alice")
    # Sent in this process: the worker a broker would feed reads the configured database, not the demo's.
    published = publishing.publish(settings, alice, sid, dispatch=send_now)
    out.print(published_line(published))
    out.print(progress_table(sid, progress.progress(settings, sid)))
    _echo("audit")
    print_audit(out, consistency.consistency_report(settings))


def _echo(*argv: str) -> None:
    """The command the next step is, as a shell would take it (quoted where it must be)."""
    import shlex

    out.print("$ " + shlex.join(["broadcaster", *argv]), style="dim", markup=False, highlight=False, soft_wrap=True)


def _fresh_database(database: Path, url: str) -> bool:
    """Make the demo's database anew, marked as the demo's; True when an earlier demo's was removed first.
    Any other file at that path (the live database given by mistake, anything) is refused as it is."""
    from ..store.db import engine_for, migrate

    replaced = database.exists()
    if replaced:
        if _mark(database) != DEMO_MARK:
            raise InvalidInput(f"{database} exists and is not a database `broadcaster demo` made: it is left as it is; "
                               "remove it yourself or give --database a new path")
        engine_for(url).dispose()  # a connection this process pooled would keep the removed file alive
        for path in (database, *(database.with_name(database.name + end) for end in ("-wal", "-shm", "-journal"))):
            path.unlink(missing_ok=True)
    migrate(url)
    with engine_for(url).begin() as connection:
        connection.exec_driver_sql(f"PRAGMA application_id = {DEMO_MARK}")
    return replaced


def _mark(database: Path) -> int | None:
    """The file's SQLite application id, read without changing it; None when it is no SQLite database."""
    import sqlite3

    try:
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return connection.execute("PRAGMA application_id").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return None
