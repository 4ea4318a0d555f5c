"""A sending process made ready before its first send: what the libraries otherwise do lazily,
on the first publish or the first chunk, the moment they are needed most.

Measured on the 2-core machine of bench/README.md: a fresh process's first `publish` took 0.6-0.8 s
of CPU, of which about 0.45 s was this (the PostgreSQL driver's import, the ORM's mappers, the SDKs'
modules, the broker's transport); warm, the same publish takes about 0.15 s. The web process
(`serve`) and the workers (before their pool forks) call it at start-up."""

import logging

from ..config import Settings

logger = logging.getLogger("broadcaster.warm")


def warm_up(settings: Settings) -> None:
    """Import and configure, connecting to nothing: the channels' SDKs (each transport built once
    and dropped), the ORM's mappers, the database driver, and the broker's transport module."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import configure_mappers

    from .. import channels
    from ..store import schema  # noqa: F401 - every table module: all the mappers configured here, once
    from .broker import app_for

    channels.warm_up(settings)
    configure_mappers()
    make_url(settings.database_url).get_dialect().import_dbapi()
    try:
        with app_for(settings).connection_for_write() as connection:
            connection.transport  # noqa: B018 - imports the transport's module; opens no socket
    except Exception as exc:  # noqa: BLE001 - a broker URL the transport refuses: the first send says so
        logger.warning("the broker's transport could not be loaded ahead: %s", exc)
