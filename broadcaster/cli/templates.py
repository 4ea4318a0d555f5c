"""`broadcaster template ...`: statement templates, reusable drafts per kind of failure, and starting a
statement from one (a draft: submitted and approved as any other)."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..domain.errors import InvalidInput
from .common import INCIDENTS, As, AsJson, app, get_settings, out, print_json, who
from .statements import read_yaml

template_app = typer.Typer(no_args_is_help=True, help="Statement templates: reusable drafts per kind of failure, "
                                                      "with {placeholders} filled when a statement starts from one.")
app.add_typer(template_app, name="template", rich_help_panel=INCIDENTS)

TemplateFile = Annotated[Path, typer.Option("--file", help=(
    "YAML: name, title, impact, components, headline, body, workaround, next_update, resolution. The words may "
    "hold {components}, {started_at}, {next_update}, {alert}, {summary}, {source} and {count}."))]
Template = Annotated[str, typer.Argument(help="The template's name or number.")]


@template_app.command("list")
def template_list(as_json: AsJson = False) -> None:
    """Every template, by name."""
    from ..playbooks import statement_templates as playbooks

    found = playbooks.list_templates(get_settings())
    if as_json:
        return print_json(found)
    for t in found:
        out.print(f"#{t['id']}  {escape(t['name'])}  ({t['impact']}; {', '.join(t['components']) or 'no components'})"
                  f": {escape(t['headline'])}", highlight=False)
    if not found:
        out.print("no templates: `broadcaster template add --file template.yaml`")


@template_app.command("show")
def template_show(template: Template) -> None:
    """A template's fields, as JSON."""
    from ..playbooks import statement_templates as playbooks

    settings = get_settings()
    print_json(playbooks.get_template(settings, playbooks.template_named(settings, template)))


@template_app.command("add")
def template_add(file: TemplateFile, actor: As = None) -> None:
    """Add a template from a YAML file."""
    from ..playbooks import statement_templates as playbooks
    from ..playbooks.statement_templates import TemplateInput

    made = playbooks.add_template(get_settings(), who(actor), TemplateInput.parse(read_yaml(file), str(file)))
    out.print(f"template #{made['id']} {escape(made['name'])}", highlight=False)


@template_app.command("change")
def template_change(template: Template, file: TemplateFile, actor: As = None) -> None:
    """Replace a template's fields from a YAML file (statements already started keep their words)."""
    from ..playbooks import statement_templates as playbooks
    from ..playbooks.statement_templates import TemplateInput

    settings = get_settings()
    changed = playbooks.change_template(settings, who(actor), playbooks.template_named(settings, template),
                                        TemplateInput.parse(read_yaml(file), str(file)))
    out.print(f"template #{changed['id']} {escape(changed['name'])} changed", highlight=False)


@template_app.command("remove")
def template_remove(template: Template, actor: As = None) -> None:
    """Remove a template no alert rule uses."""
    from ..playbooks import statement_templates as playbooks

    settings = get_settings()
    gone = playbooks.remove_template(settings, who(actor), playbooks.template_named(settings, template))
    out.print(f"template #{gone['id']} {escape(gone['name'])} removed", highlight=False)


@template_app.command("use")
def template_use(
    template: Template,
    incident: Annotated[Optional[int], typer.Option("--incident", help=(
        "Draft a new version of this incident; default: open an incident from the template."))] = None,
    value: Annotated[Optional[list[str]], typer.Option("--value", help=(
        "NAME=TEXT for a placeholder (alert, summary, source, count; or over a computed one); repeatable."))] = None,
    actor: As = None,
) -> None:
    """Start a statement from a template: a draft, with the placeholders filled. Then preview, submit."""
    from ..playbooks import statement_templates as playbooks

    settings = get_settings()
    values = {}
    for item in value or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise InvalidInput(f"--value: {item!r} is not NAME=TEXT")
        values[name.strip()] = text
    st = playbooks.start_statement(settings, who(actor), playbooks.template_named(settings, template), incident,
                                   values)
    out.print(f"statement {st['id']}: incident {st['incident_id']} v{st['version']} (draft, from template "
              f"{escape(st['template'])}): `broadcaster preview {st['id']}`, then `broadcaster submit {st['id']}`",
              highlight=False, soft_wrap=True)
