"""`broadcaster maintenance schedule` and `publish-due`: planned work, approved like any statement."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import INCIDENTS, As, Wait, app, get_settings, out, who
from .sending import follow_statements, sender_settings
from .statements import translations_file
from .views import plural

maintenance_app = typer.Typer(no_args_is_help=True, help="Scheduled maintenance: said ahead of time.")
app.add_typer(maintenance_app, name="maintenance", rich_help_panel=INCIDENTS)


@maintenance_app.command("schedule")
def maintenance_schedule(
    title: Annotated[str, typer.Option(help="What the work is, e.g. 'Database upgrade'.")],
    start: Annotated[str, typer.Option(help="ISO time with zone, e.g. 2026-11-24T02:00+00:00.")],
    end: Annotated[str, typer.Option(help="ISO time with zone.")],
    body: Annotated[str, typer.Option(help="What customers will notice during the window.")],
    component: Annotated[Optional[list[str]], typer.Option(help="Affected component; repeatable.")] = None,
    translations: Annotated[Optional[Path], typer.Option("--translations", help=(
        "YAML file: the title (as headline) and body in the installation's other languages, e.g. "
        "es: {headline: Actualización de la base de datos, body: ...}."))] = None,
    actor: As = None,
) -> None:
    """Schedule maintenance: three statements (scheduled, in progress, completed) to approve now."""
    from ..incidents import maintenance

    settings = get_settings()
    words = translations_file(translations).translations if translations else None
    result = maintenance.schedule(settings, who(actor), title, maintenance.parse_time(start, "--start"),
                                  maintenance.parse_time(end, "--end"), component or [], body,
                                  translations={tag: w.model_dump() if w else None for tag, w in words.items()}
                                  if words else None)
    ids = result["statements"]
    out.print(f"maintenance {result['id']}: {result['title']} ({result['scheduled_for']} to "
              f"{result['scheduled_until']})")
    out.print(f"  statements to approve: scheduled {ids['scheduled']}, in_progress {ids['in_progress']}, "
              f"completed {ids['completed']}")
    out.print(f"  then `broadcaster publish {ids['scheduled']}` to announce it; the other two are published at the "
              "start and the end by the workers' beat (embedded: by `broadcaster serve`, which must be running then)")


@maintenance_app.command("publish-due")
def maintenance_publish_due(ctx: typer.Context, actor: As = None, wait: Wait = True) -> None:
    """Publish the approved start/end notices whose time has come, then send them: what beat does (and
    embedded `serve`) at each sweep interval."""
    from ..incidents import maintenance

    settings = sender_settings(ctx)
    published = maintenance.publish_due(settings, actor=who(actor))
    out.print(f"published {plural(len(published), 'maintenance statement', 'maintenance statements')}: "
              f"{', '.join(map(str, published)) or 'none'}")
    follow_statements(settings, published, wait)
