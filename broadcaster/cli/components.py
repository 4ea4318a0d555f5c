"""`broadcaster component add/list`: the parts of the service the status page lists."""

from typing import Annotated, Optional

import typer
from rich.table import Table

from .common import SURFACES, As, AsJson, app, get_settings, out, print_json, who

component_app = typer.Typer(no_args_is_help=True, help="Components: the parts of the service customers see.")
app.add_typer(component_app, name="component", rich_help_panel=SURFACES)


@component_app.command("add")
def component_add(name: str, actor: As = None,
                  description: Annotated[str, typer.Option(help="One line customers read.")] = "",
                  group: Annotated[Optional[str], typer.Option(help="Shown under this heading.")] = None,
                  order: Annotated[int, typer.Option(help="Position within its group (lower first).")] = 0) -> None:
    """Add a component to the status page."""
    from ..incidents import components

    c = components.add_component(get_settings(), who(actor), name, description, group, order)
    out.print(f"component {c['id']}: {c['name']}" + (f" (in {c['group']})" if c["group"] else ""))


@component_app.command("list")
def component_list(as_json: AsJson = False) -> None:
    """Every component: its name (what --component takes), group, order on the status page, description."""
    from ..incidents import components

    rows = components.list_components(get_settings())
    if as_json:
        return print_json(rows)
    table = Table("id", "name", "group", "order", "description")
    for c in rows:
        table.add_row(str(c["id"]), c["name"], c["group"] or "", str(c["order"]), c["description"])
    out.print(table)
