"""What customers see and hear: the banner, the status page, its Statuspage v2 JSON and feeds,
the static export, and the IVR's live message. All of it reads what the live surfaces show now
from the database and serves the stored, approved renditions byte for byte."""

from ..delivery.dispatch import on_surface_switched
from .cache import SurfaceCache
from .documents import ROUTES, Document, render_documents
from .export import export_if_configured, export_static
from .freshness import Listener, notify_public_servers
from .snapshot import Snapshot, take_snapshot


def register_switch_hooks() -> None:
    """Every switch of a live surface sent in this process rewrites the static export (when
    BROADCASTER_STATIC_DIR is set) and is announced to the public servers (freshness.py). Called by
    whatever assembles a sending process: the worker app, embedded `serve`, the CLI commands that
    send in-process, the demo."""
    on_surface_switched(export_if_configured)
    on_surface_switched(notify_public_servers)


__all__ = ["ROUTES", "Document", "Snapshot", "SurfaceCache", "export_if_configured", "export_static",
           "Listener", "notify_public_servers", "register_switch_hooks", "render_documents", "take_snapshot"]
