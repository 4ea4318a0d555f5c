"""`broadcaster incident ...`, `statement ...` and the approval flow: preview, submit,
approve, reject, withdraw."""

from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from rich.table import Table

from .. import statements
from ..config import get_settings
from ..domain.components import parse_assignments
from ..domain.errors import InvalidInput
from ..statements import StatementInput
from .common import As, AsJson, app, out, print_json, who
from .views import print_preview

incident_app = typer.Typer(no_args_is_help=True, help="Incidents: what is broken.")
statement_app = typer.Typer(no_args_is_help=True, help="Statements: versioned updates about an incident.")
app.add_typer(incident_app, name="incident")
app.add_typer(statement_app, name="statement")


@incident_app.command("open")
def incident_open(
    title: Annotated[str, typer.Option()],
    impact: Annotated[str, typer.Option(help="none, minor, major or critical.")],
    component: Annotated[Optional[list[str]], typer.Option(help="An affected service; repeat for several.")] = None,
    actor: As = None,
) -> None:
    """Open an incident; statements about it come next."""
    incident = statements.open_incident(get_settings(), who(actor), title, impact, component or [])
    out.print(f"incident {incident['id']}: {incident['title']} ({incident['impact']})")


@incident_app.command("list")
def incident_list(as_json: AsJson = False) -> None:
    incidents = statements.list_incidents(get_settings())
    if as_json:
        return print_json(incidents)
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
ComponentStates = Annotated[Optional[list[str]], typer.Option(
    "--component-state", help="NAME=STATE (operational, degraded_performance, partial_outage, major_outage, "
                              "under_maintenance); repeatable. Default: from the impact.")]


@statement_app.command("draft")
def statement_draft(incident_id: int, actor: As = None, status: Status = None, impact: Impact = None,
                    components: Components = None, headline: Headline = None, body: Body = None,
                    workaround: Workaround = None, next_update: NextUpdate = None, file: File = None,
                    component_state: ComponentStates = None) -> None:
    """Draft a new version for an incident (an update starts from the latest version)."""
    given = _statement_input(file, status=status, impact=impact, components=components, headline=headline,
                             body=body, workaround=workaround, next_update=next_update,
                             component_states=parse_assignments(component_state) if component_state else None)
    st = statements.draft(get_settings(), who(actor), incident_id, given)
    out.print(f"statement {st['id']}: incident {st['incident_id']} v{st['version']} ({st['state']})")


@statement_app.command("edit")
def statement_edit(statement_id: int, actor: As = None, status: Status = None, impact: Impact = None,
                   components: Components = None, headline: Headline = None, body: Body = None,
                   workaround: Workaround = None, next_update: NextUpdate = None, file: File = None,
                   component_state: ComponentStates = None) -> None:
    """Change a statement. A submitted or approved one becomes a new draft version; its approvals are void."""
    given = _statement_input(file, status=status, impact=impact, components=components, headline=headline,
                             body=body, workaround=workaround, next_update=next_update,
                             component_states=parse_assignments(component_state) if component_state else None)
    st = statements.edit(get_settings(), who(actor), statement_id, given)
    note = "" if st["id"] == statement_id else f" (new version; statement {statement_id} is void)"
    out.print(f"statement {st['id']}: incident {st['incident_id']} v{st['version']} ({st['state']}){note}")


@statement_app.command("show")
def statement_show(statement_id: int, as_json: AsJson = False) -> None:
    st = statements.get_statement(get_settings(), statement_id)
    if as_json:
        return print_json(st)
    out.print(f"[bold]statement {st['id']}[/] incident {st['incident_id']} v{st['version']} - {st['state']}")
    for key in ("status", "impact", "components", "component_states", "headline", "body", "workaround", "next_update_at", "author",
                "content_hash"):
        out.print(f"  {key}: {st[key]}", highlight=False)
    for a in st["approvals"]:
        out.print(f"  {a['decision']} by {a['by']} of {a['content_hash'][:12]} at {a['at']} {a['comment']}")


@statement_app.command("list")
def statement_list(incident: Annotated[Optional[int], typer.Option()] = None, as_json: AsJson = False) -> None:
    statements = statements.list_statements(get_settings(), incident)
    if as_json:
        return print_json(statements)
    table = Table("id", "incident", "v", "state", "status", "headline", "author")
    for st in statements:
        table.add_row(str(st["id"]), str(st["incident_id"]), str(st["version"]), st["state"], st["status"],
                      st["headline"], st["author"])
    out.print(table)


# --- the approval flow --------------------------------------------------------------------


@app.command()
def preview(statement_id: int, as_json: AsJson = False) -> None:
    """Every channel side by side, with each limit and how close it is."""
    result = statements.preview(get_settings(), statement_id)
    if as_json:
        return print_json(result)
    print_preview(out, result)


@app.command()
def submit(statement_id: int, actor: As = None) -> None:
    """Freeze a draft's renditions and ask for approval."""
    st = statements.submit(get_settings(), who(actor), statement_id)
    out.print(f"statement {st['id']} submitted: content hash {st['content_hash'][:12]}, "
              f"needs {st['approvals_needed']} approval(s)")


@app.command()
def approve(statement_id: int, actor: As = None,
            content_hash: Annotated[Optional[str], typer.Option("--hash", help="The hash you previewed.")] = None,
            comment: Annotated[str, typer.Option()] = "") -> None:
    """Approve exactly the content you previewed."""
    st = statements.approve(get_settings(), who(actor), statement_id, content_hash, comment)
    out.print(f"statement {st['id']}: approval {st['approvals']} of {st['approvals_needed']} "
              f"for {st['content_hash'][:12]} ({st['state']})")


@app.command()
def reject(statement_id: int, reason: Annotated[str, typer.Option()], actor: As = None) -> None:
    """Send a statement back to its author, saying why."""
    st = statements.reject(get_settings(), who(actor), statement_id, reason)
    out.print(f"statement {st['id']}: rejected")


@app.command()
def withdraw(statement_id: int, actor: As = None) -> None:
    """Take back a draft, a submitted or an approved statement."""
    st = statements.withdraw(get_settings(), who(actor), statement_id)
    out.print(f"statement {st['id']}: withdrawn")
