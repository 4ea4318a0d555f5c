"""CLI commands for what customers see: `broadcaster export DIR` and `broadcaster serve --public`.

Kept apart from the main CLI module so it registers them in a couple of lines."""

from pathlib import Path
from typing import Annotated

import typer

from .config import get_settings


def export(directory: Annotated[Path, typer.Argument(help="Where to write the files (created if missing).")]) -> None:
    """Write the public surfaces as static files (banner.json, banner.js, status/index.html, feeds,
    api/v2/*.json) for a CDN or any web server: the same bytes `serve --public` answers with."""
    from .store.db import require_current_schema
    from .surfaces import export_static

    settings = get_settings()
    require_current_schema(settings.database_url)
    written = export_static(settings, directory)
    typer.echo(f"wrote {len(written)} files to {directory}")


def serve_public(host: str, port: int) -> None:
    """Run only the public surfaces (no admin, no provider webhooks, no /metrics) under uvicorn."""
    import uvicorn

    from .store.db import require_current_schema
    from .web.public import create_public_app

    settings = get_settings()
    require_current_schema(settings.database_url)
    uvicorn.run(create_public_app(settings), host=host, port=port, log_level="info")
