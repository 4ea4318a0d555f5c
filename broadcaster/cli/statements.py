"""`broadcaster incident ...`, `statement ...` and the approval flow: preview, submit,
approve, reject, withdraw."""

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..domain.component_states import parse_assignments
from ..domain.delivery_status import REACHED
from ..domain.errors import InvalidInput
from .common import (
    APPROVALS,
    ID_ARGUMENT,
    INCIDENTS,
    As,
    AsJson,
    IncidentId,
    StatementId,
    Wait,
    app,
    get_settings,
    out,
    print_json,
    who,
)
from .sending import follow_deliveries, sender_settings
from .views import plural, print_preview, whole

if TYPE_CHECKING:
    from ..incidents.statements import StatementInput

incident_app = typer.Typer(no_args_is_help=True, help="Incidents: what is broken.")
statement_app = typer.Typer(no_args_is_help=True, help="Statements: versioned updates about an incident.")
app.add_typer(incident_app, name="incident", rich_help_panel=INCIDENTS)
app.add_typer(statement_app, name="statement", rich_help_panel=INCIDENTS)


@incident_app.command("open")
def incident_open(
    title: Annotated[str, typer.Option(help="What is broken, in a few words, e.g. 'Login failures'.")],
    impact: Annotated[str, typer.Option(help="none, minor, major or critical.")],
    component: Annotated[Optional[list[str]], typer.Option(help="An affected service; repeat for several.")] = None,
    actor: As = None,
) -> None:
    """Open an incident; statements about it come next."""
    from ..incidents import statements

    incident = statements.open_incident(get_settings(), who(actor), title, impact, component or [])
    out.print(f"incident {incident['id']}: {incident['title']} ({incident['impact']})")


@incident_app.command("list")
def incident_list(as_json: AsJson = False) -> None:
    """Every incident: its id (what `statement draft` takes), title, impact, status, components."""
    from ..incidents import statements

    incidents = statements.list_incidents(get_settings())
    if as_json:
        return print_json(incidents)
    # The status whole; when it opened to the minute, in UTC (the full ISO time is in --json).
    table = Table("id", "title", "impact", whole("status", (i["status"] for i in incidents)), "components",
                  whole("opened (UTC)", ()))
    for i in incidents:
        table.add_row(str(i["id"]), i["title"], i["impact"], i["status"], ", ".join(i["components"]),
                      i["opened_at"][:16].replace("T", " "))
    out.print(table)


def _statement_input(file: Optional[Path], component_state: Optional[list[str]] = None, **flags) -> "StatementInput":
    """The options given, over the fields of `file` (YAML) when there is one."""
    from ..incidents.statements import StatementInput

    if component_state:
        flags["component_states"] = parse_assignments(component_state)
    given = StatementInput.parse({k: v for k, v in flags.items() if v is not None}, "options")
    if file is None:
        return given
    return given.merged_over(StatementInput.parse(read_yaml(file), str(file)))


def translations_file(file: Path) -> "StatementInput":
    """A YAML map of language to words ({es: {headline: ..., body: ...}}), as a statement's translations."""
    from ..incidents.statements import StatementInput

    return StatementInput.parse({"translations": read_yaml(file)}, str(file))


def read_yaml(file: Path):
    """The YAML in `file`, or one clear line saying why it cannot be read."""
    import yaml

    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = file.read_bytes()[:exc.start].count(b"\n") + 1
        raise InvalidInput(f"{file}: line {line} is not UTF-8 (byte 0x{exc.object[exc.start]:02x}); save the file "
                           "as UTF-8 and try again") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{file}: not valid YAML: {exc}") from None


Status = Annotated[Optional[str], typer.Option(help="investigating, identified, monitoring or resolved.")]
Impact = Annotated[Optional[str], typer.Option(help="none, minor, major or critical (default: the incident's).")]
Components = Annotated[Optional[list[str]], typer.Option("--component", help="Affected service; repeatable.")]
Headline = Annotated[Optional[str], typer.Option(help="One line customers read first.")]
Body = Annotated[Optional[str], typer.Option(help="What is happening and who is affected.")]
Workaround = Annotated[Optional[str], typer.Option(help="What customers can do meanwhile.")]
Resolution = Annotated[Optional[str], typer.Option(help=(
    "With --status resolved (required then): one line saying what is fixed, e.g. 'Logins work normally again.' "
    "Customers read it first, instead of the headline; the body says what was done."))]
ContactCentre = Annotated[Optional[bool], typer.Option(
    "--contact-centre-closed/--contact-centre-open",
    help="Disaster mode: every channel says the contact centre cannot take calls, and where to go instead.")]
NextUpdate = Annotated[Optional[str], typer.Option("--next-update", help="'30m', '2h' or an ISO time.")]
File = Annotated[Optional[Path], typer.Option("--file", help=(
    "YAML file with the same fields, and `translations:` (a map of language to headline, body, workaround, "
    "resolution); options win."))]
ComponentStates = Annotated[Optional[list[str]], typer.Option(
    "--component-state", help="NAME=STATE (operational, degraded_performance, partial_outage, major_outage, "
                              "under_maintenance); repeatable. Default: from the impact.")]


@statement_app.command("draft", context_settings=ID_ARGUMENT)
def statement_draft(incident_id: IncidentId, actor: As = None, status: Status = None, impact: Impact = None,
                    components: Components = None, headline: Headline = None, body: Body = None,
                    workaround: Workaround = None, resolution: Resolution = None, next_update: NextUpdate = None,
                    contact_centre: ContactCentre = None, file: File = None,
                    component_state: ComponentStates = None) -> None:
    """Draft a new version for an incident (an update starts from the latest version)."""
    from ..incidents import statements

    given = _statement_input(file, component_state, status=status, impact=impact, components=components,
                             headline=headline, body=body, workaround=workaround, resolution=resolution,
                             next_update=next_update, contact_centre_closed=contact_centre)
    st = statements.draft(get_settings(), who(actor), incident_id, given)
    out.print(f"statement {st['id']}: incident {st['incident_id']} v{st['version']} ({st['state']})")
    _say_what_else_changed(st)


@statement_app.command("edit", context_settings=ID_ARGUMENT)
def statement_edit(statement_id: StatementId, actor: As = None, status: Status = None, impact: Impact = None,
                   components: Components = None, headline: Headline = None, body: Body = None,
                   workaround: Workaround = None, resolution: Resolution = None, next_update: NextUpdate = None,
                   contact_centre: ContactCentre = None, file: File = None,
                   component_state: ComponentStates = None) -> None:
    """Change a statement. A submitted or approved one becomes a new draft version; its approvals are void."""
    from ..incidents import statements

    given = _statement_input(file, component_state, status=status, impact=impact, components=components,
                             headline=headline, body=body, workaround=workaround, resolution=resolution,
                             next_update=next_update, contact_centre_closed=contact_centre)
    st = statements.edit(get_settings(), who(actor), statement_id, given)
    if st["id"] == statement_id:
        out.print(f"statement {st['id']}: incident {st['incident_id']} v{st['version']} ({st['state']}), edited")
    else:
        out.print(f"statement {st['id']}: a new draft, incident {st['incident_id']} v{st['version']}, made from "
                  f"statement {statement_id} (a submitted version never changes)", soft_wrap=True)
    _say_what_else_changed(st)


def _say_what_else_changed(st: dict) -> None:
    """Versions the new draft made void, and what customers still see meanwhile."""
    for old in st["voided"]:
        out.print(f"statement {old['id']} (v{old['version']}, was {old['was'].replace('_', ' ')}) is void: "
                  f"only the newest version can be published", soft_wrap=True)
    live = st["live"]
    if live and live["id"] != st["id"]:
        out.print(f"statement {live['id']} (v{live['version']}) stays live until v{st['version']} is approved "
                  "and published", soft_wrap=True)


@statement_app.command("show", context_settings=ID_ARGUMENT)
def statement_show(statement_id: StatementId, as_json: AsJson = False) -> None:
    """One statement in full: its state, every field, its translations, who wrote it, its approvals."""
    from ..incidents import statements

    st = statements.get_statement(get_settings(), statement_id)
    if as_json:
        return print_json(st)
    out.print(f"[bold]statement {st['id']}[/] incident {st['incident_id']} v{st['version']} - {st['state']}")
    for key in ("status", "impact", "components", "component_states", "headline", "body", "workaround",
                "resolution", "contact_centre_closed", "next_update_at", "language", "author", "content_hash"):
        value = (", ".join(st[key]) or "(none named)") if key == "components" else st[key]
        out.print(f"  {key}: {escape(str(value if value is not None else ''))}", highlight=False)
    for locale, words in st["translations"].items():
        for name, text in words.items():
            out.print(f"  {name} ({locale}): {escape(text)}", highlight=False)
    out.print(f"  written or edited by (cannot approve it): {escape(', '.join(st['written_or_edited_by']))}",
              highlight=False)
    for a in st["approvals"]:
        out.print(f"  {a['decision']} by {a['by']} of {a['content_hash'][:12]} at {a['at']} {a['comment']}")


@statement_app.command("list")
def statement_list(incident: Annotated[Optional[int], typer.Option(help="Only this incident's (its id).")] = None,
                   as_json: AsJson = False) -> None:
    """Every statement: its id (what preview, submit, approve and publish take), incident, version, state,
    status, headline, author."""
    from ..incidents import statements

    rows = statements.list_statements(get_settings(), incident)  # not `statements`: that is the module
    if as_json:
        return print_json(rows)
    table = Table("id", "incident", "v", whole("state", (st["state"] for st in rows)),
                  whole("status", (st["status"] for st in rows)), "headline", "author")
    for st in rows:
        table.add_row(str(st["id"]), str(st["incident_id"]), str(st["version"]), st["state"], st["status"],
                      st["headline"], st["author"])
    out.print(table)


# --- the approval flow --------------------------------------------------------------------


@app.command(context_settings=ID_ARGUMENT, rich_help_panel=INCIDENTS)
def preview(statement_id: StatementId, as_json: AsJson = False,
            only_hash: Annotated[bool, typer.Option("--hash", help="Print only the content hash (12 characters), "
                                                    "for `approve --hash`.")] = False) -> None:
    """Every channel's words for a statement, one after another, each with its limits and how close it is."""
    from ..incidents import statements

    result = statements.preview(get_settings(), statement_id)
    if as_json:
        return print_json(result)
    if only_hash:  # e.g. HASH=$(broadcaster preview 1 --hash): approve the words you read, by their hash
        return out.print(result["content_hash"][:12], highlight=False)
    print_preview(out, result)


@app.command(context_settings=ID_ARGUMENT, rich_help_panel=INCIDENTS)
def submit(ctx: typer.Context, statement_id: StatementId, actor: As = None, wait: Wait = True) -> None:
    """Freeze a draft's renditions and ask for approval (approvers are emailed a link and texted a code)."""
    from ..incidents import statements

    settings = sender_settings(ctx)
    st = statements.submit(settings, who(actor), statement_id)
    out.print(f"statement {st['id']} submitted: content hash {st['content_hash'][:12]}, "
              f"needs {plural(st['approvals_needed'], 'approval', 'approvals')}")
    from ..approvals.by_phone import notify_approvers

    asked = notify_approvers(settings, statement_id)  # email links and SMS codes: messages, queued
    for sent in asked:
        out.print(f"asked {sent.user} by {sent.kind} ({sent.provider})")
    follow_deliveries(settings, [sent.delivery_id for sent in asked], wait, partial(_say_unsent, asked))


def _say_unsent(asked: list, shown: dict[int, str]) -> None:
    """Only what did not go: a request that reached its approver (or the log) needs no word."""
    for sent in asked:
        status = shown.get(sent.delivery_id)
        if status not in REACHED:
            out.print(f"the request to {sent.user} by {sent.kind} is {status}: `broadcaster log --kind "
                      "'approval request'` says why", highlight=False)


@app.command(context_settings=ID_ARGUMENT, rich_help_panel=APPROVALS)
def approve(statement_id: StatementId, actor: As = None,
            content_hash: Annotated[Optional[str], typer.Option("--hash", help=(
                "The content hash of the words you read (`broadcaster preview N --hash` prints it): if they "
                "changed since, nothing is approved. Without it, the words stored now are approved."))] = None,
            comment: Annotated[str, typer.Option(help="A note kept with your approval (`statement show` "
                                                      "lists it).")] = "") -> None:
    """Approve exactly the content you previewed."""
    from ..approvals import decisions

    st = decisions.approve(get_settings(), who(actor), statement_id, content_hash, comment)
    out.print(f"statement {st['id']}: approval {st['approvals']} of {st['approvals_needed']} "
              f"for {st['content_hash'][:12]} ({st['state']})")


@app.command(context_settings=ID_ARGUMENT, rich_help_panel=APPROVALS)
def reject(statement_id: StatementId, reason: Annotated[str, typer.Option(help="Why, so the author can fix it.")],
           actor: As = None) -> None:
    """Send a statement back to its author, saying why."""
    from ..approvals import decisions

    st = decisions.reject(get_settings(), who(actor), statement_id, reason)
    out.print(f"statement {st['id']}: rejected")


@app.command(context_settings=ID_ARGUMENT, rich_help_panel=INCIDENTS)
def withdraw(statement_id: StatementId, actor: As = None) -> None:
    """Take back a draft, a submitted or an approved statement."""
    from ..incidents import statements

    st = statements.withdraw(get_settings(), who(actor), statement_id)
    out.print(f"statement {st['id']}: withdrawn")
