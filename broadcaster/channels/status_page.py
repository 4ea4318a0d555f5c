"""The public status page's entry for this version (an HTML fragment, escaped by its template)."""

from .live import live_surface

CHANNEL = live_surface("status_page")
