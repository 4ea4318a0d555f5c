"""What customers see and hear: the banner, the status page, its Statuspage v2 JSON and feeds,
the static export, and the IVR's live message. All of it reads what the live surfaces show now
from the database and serves the stored, approved renditions byte for byte."""

from ..delivery import chunk as _chunk
from .cache import SurfaceCache
from .documents import ROUTES, Document, render_documents
from .export import export_if_configured, export_static
from .snapshot import Snapshot, take_snapshot

# Every switch of a live surface rewrites the static export (when BROADCASTER_STATIC_DIR is set).
if export_if_configured not in _chunk.on_surface_switched:
    _chunk.on_surface_switched.append(export_if_configured)

__all__ = ["ROUTES", "Document", "Snapshot", "SurfaceCache", "export_if_configured", "export_static",
           "render_documents", "take_snapshot"]
