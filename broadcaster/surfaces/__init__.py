"""What customers see and hear: the banner, the status page, its Statuspage v2 JSON and feeds,
the static export, and the IVR's live message. All of it reads what the live surfaces show now
from the database and serves the stored, approved renditions byte for byte."""

from .cache import SurfaceCache
from .documents import ROUTES, Document, render_documents
from .export import export_if_configured, export_static
from .snapshot import Snapshot, take_snapshot

__all__ = ["ROUTES", "Document", "Snapshot", "SurfaceCache", "export_if_configured", "export_static",
           "render_documents", "take_snapshot"]
