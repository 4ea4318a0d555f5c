"""The public surfaces as static files, for a CDN or any web server: status survives when the
app does not. The bytes are the ones the app serves, from the same snapshot code.

Each file is written to a temporary file beside it and moved into place with `os.replace`, so a
reader (the CDN's origin fetch) sees the old file or the new one, never half of one.
"""

import os
import tempfile
from pathlib import Path

from ..config import Settings
from .documents import render_documents
from .snapshot import take_snapshot


def export_static(settings: Settings, directory: Path | str) -> list[Path]:
    """Write every public document under `directory`; returns the files written."""
    directory = Path(directory)
    documents = render_documents(settings, take_snapshot(settings))
    return [write_atomically(directory / doc.path, doc.body) for doc in documents.values()]


def export_if_configured(settings: Settings) -> list[Path]:
    """For the publish path, after a live surface switched: export when BROADCASTER_STATIC_DIR is set."""
    return export_static(settings, settings.static_dir) if settings.static_dir else []


def write_atomically(path: Path, body: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a web server must read it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
