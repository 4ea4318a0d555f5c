"""`broadcaster wording`: the wording gallery, every channel's words for every kind of notice,
status and language, written where reviewers read them (docs/wording/)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import INCIDENTS, app, err, out
from .views import plural


@app.command("wording", rich_help_panel=INCIDENTS)
def wording(
    folder: Annotated[Optional[Path], typer.Option(
        "--out", help="Where the gallery goes (default: docs/wording in the project).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the gallery is stale.")] = False,
) -> None:
    """Render a sample outage and maintenance through every channel, status and language into files, so
    every change to the templates or catalogs is a diff a reviewer reads as customers will."""
    from ..config import PROJECT_ROOT, get_settings
    from ..incidents import gallery

    settings, folder = get_settings(), folder or PROJECT_ROOT / "docs" / "wording"
    if check:
        stale = gallery.stale_files(settings, folder)
        if stale:
            err.print(f"{plural(len(stale), 'file is', 'files are')} stale in {folder} (run `broadcaster "
                      f"wording`): {', '.join(stale[:10])}{' ...' if len(stale) > 10 else ''}", soft_wrap=True)
            raise typer.Exit(1)
        out.print(f"{folder}: current")
        return
    written = gallery.write_gallery(settings, folder)
    out.print(f"{plural(len(written), 'file', 'files')} written under {folder}")
