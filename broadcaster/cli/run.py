"""Running Broadcaster: `init`, `worker`, `beat`, `serve`, and the `demo` tour."""

from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..delivery.queues import EVERY_QUEUE
from ..domain.errors import InvalidInput
from .common import OPERATIONS, SURFACES, app, get_settings, out

# Side by side on one host: the full app, and the public process (`serve --public`) on its own port.
APP_PORT, PUBLIC_PORT = 8080, 8081


@app.command(rich_help_panel=OPERATIONS)
def init() -> None:
    """Create the database, or migrate it to this version's schema; create the secret key file."""
    from ..store.db import migrate, safe_url

    settings = get_settings()
    revision = migrate(settings.database_url)
    out.print(f"database ready at schema {revision}: {safe_url(settings.database_url)}")
    out.print(_secret_key_status(settings), highlight=False, soft_wrap=True)


def _secret_key_status(settings) -> str:
    """Where the secret key comes from; a new random one in the secret file if there is none."""
    from .. import config

    if settings.secret_key and settings.secret_key != "change-me":
        if settings.secret_source == "BROADCASTER_SECRET_KEY":
            return "secret key: from BROADCASTER_SECRET_KEY"
        return f"secret key: {settings.secret_file} (kept)"
    if config.create_secret_file(settings.secret_file):
        config.get_settings.cache_clear()
        return (f"secret key: created {settings.secret_file} (readable only by you; keep it out of the database "
                "backups and give every Broadcaster process the same file or BROADCASTER_SECRET_KEY)")
    config.require_real_secret(settings, "init")
    return ""


@app.command(rich_help_panel=OPERATIONS)
def worker(queues: Annotated[str, typer.Option(help="Comma-separated, of: " + EVERY_QUEUE.replace(",", ", ") + ".")]
           = EVERY_QUEUE,
           concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2) -> None:
    """Start a Celery worker (needs BROADCASTER_BROKER_URL, e.g. redis://localhost:6379/0)."""
    settings = _shared_broker_settings("worker")
    ready_to_send(settings, "worker")
    from broadcaster.delivery.metrics import start_worker_metrics
    from workers.app import celery_app

    start_worker_metrics(settings)
    celery_app.worker_main(["worker", "-Q", queues, "--concurrency", str(concurrency), "--loglevel", "INFO",
                            "--without-gossip", "--without-mingle"])


@app.command(rich_help_panel=OPERATIONS)
def beat(schedule: Annotated[Path, typer.Option(help="Where beat keeps its state.")] = Path(
        ".broadcaster-beat")) -> None:
    """Start beat, which sends the workers their periodic jobs; one per installation.

    The jobs: the sweep, scheduled maintenance's start and end notices, the social queue."""
    ready_to_send(_shared_broker_settings("beat"), "beat")
    from workers.app import celery_app

    celery_app.start(["beat", "--schedule", str(schedule), "--loglevel", "INFO"])


@app.command(rich_help_panel=OPERATIONS)
def serve(host: Annotated[str, typer.Option(help="The address to listen on (0.0.0.0: every interface).")]
          = "127.0.0.1",
          port: Annotated[Optional[int], typer.Option(help=f"Default: {APP_PORT}; with --public, {PUBLIC_PORT}.")]
          = None,
          public: Annotated[bool, typer.Option("--public", help="Only the public status surfaces.")] = False,
          workers: Annotated[int, typer.Option(min=1, max=64, help=(
              "With --public: processes serving the port (each keeps its own copy of the documents)."))] = 1) -> None:
    """Run the web app; embedded, also the worker and every periodic job, in this process.

    The full app also answers unsubscribe and approval links, /metrics and /healthz. Embedded (no
    BROADCASTER_BROKER_URL) it sends in this process and runs what beat runs for a fleet: the sweep,
    scheduled maintenance, the social queue. --public: only what customers read (banner, status
    page, Statuspage JSON, feeds, sign-up, the phone line and SMS keywords), in a process of its own,
    on its own port, answering from its last snapshot while the database and Redis are down."""
    import uvicorn

    from broadcaster.delivery.warm import warm_up
    from broadcaster.web.app import create_app
    from broadcaster.web.bounds import HTTP_PARSER
    from broadcaster.web.public import create_public_app

    from ..store.db import migrate

    settings = get_settings()
    if public:  # needs no secret: it signs nothing, so the public host never holds the key
        _public_server_can_start(settings)
        if workers > 1:  # each process builds its app (and its listener) from the same environment
            uvicorn.run("broadcaster.web.public:create_public_app", factory=True, workers=workers, host=host,
                        port=port or PUBLIC_PORT, log_level="info", http=HTTP_PARSER)
        else:
            uvicorn.run(create_public_app(settings), host=host, port=port or PUBLIC_PORT, log_level="info",
                        http=HTTP_PARSER)
        return
    if workers > 1:
        raise InvalidInput("serve: --workers is for --public (the full app runs one process)")
    ready_to_send(settings, "serve")
    if settings.embedded:
        migrate(settings.database_url)  # the laptop default needs no separate set-up step
    warm_up(settings)  # the first publish of an outage must not wait for the libraries' lazy imports
    with embedded_worker(settings), embedded_beat(settings):
        uvicorn.run(create_app(settings), host=host, port=port or APP_PORT, log_level="info", http=HTTP_PARSER)


def _public_server_can_start(settings) -> None:
    """The schema is current; or the database is down and the spool kept a snapshot to answer from."""
    from sqlalchemy.exc import DBAPIError

    from ..store.db import require_current_schema

    try:
        require_current_schema(settings.database_url)
    except DBAPIError as exc:
        from broadcaster.surfaces.spool import Spool

        if not settings.public_spool_path.exists() or Spool(settings.public_spool_path).last_snapshot() is None:
            raise
        typer.echo(f"serve --public: the database is unreachable ({str(exc).splitlines()[0]}); answering from "
                   f"the last snapshot kept in {settings.public_spool_path} until it is back", err=True)


@contextmanager
def embedded_beat(settings):
    """Embedded default: what beat does for a fleet, from this process. Every periodic job
    (`PERIODIC_JOBS`: the sweep, scheduled maintenance, the social queue, and any added later)
    is sent at its interval to the in-process worker, as beat sends it to the workers; each runs
    once at start too, so what was left queued while nothing ran (`--no-wait`) goes at once."""
    if not settings.embedded:
        yield
        return
    from broadcaster.delivery.background import every
    from broadcaster.delivery.broker import PERIODIC_JOBS
    from broadcaster.delivery.enqueue import send_periodic

    with ExitStack() as jobs:
        for job in PERIODIC_JOBS:
            jobs.enter_context(every(job.seconds(settings), partial(send_periodic, settings, job), job.name,
                                     immediately=True))
        yield


def ready_to_send(settings, what: str) -> None:
    """What a long-running process that sends (or schedules sends) checks at start-up, each refusal one
    line saying what to set: a real secret key, and BROADCASTER_PUBLIC_URL when a configured provider
    carries links to this server. (Every web address setting was checked when the settings were read.)"""
    from ..config import require_real_secret
    from ..delivery.links import require_public_url

    require_real_secret(settings, what)
    require_public_url(settings, what)


def _shared_broker_settings(what: str):
    settings = get_settings()
    if settings.embedded:
        raise InvalidInput(f"{what}: a separate {what} needs a broker it can share; set BROADCASTER_BROKER_URL, "
                           "e.g. redis://127.0.0.1:6379/0 (the embedded default needs none: `broadcaster serve` "
                           "runs the worker and the periodic jobs, and each command sends what it queued)")
    return settings


@contextmanager
def embedded_worker(settings):
    """Embedded default: a worker in this process drains what was put on the memory broker.
    With a real broker the fleet's workers do it, and this does nothing."""
    if not settings.embedded:
        yield
        return
    from broadcaster.events import register_event_hooks
    from broadcaster.surfaces import register_switch_hooks
    from workers.app import celery_app
    from workers.embedded import in_process_worker

    register_switch_hooks()  # this process sends: it runs what a worker runs after a surface switch
    register_event_hooks()
    with in_process_worker(celery_app):
        yield


@app.command(rich_help_panel=SURFACES)
def export(directory: Annotated[Path, typer.Argument(help="Where to write the files (created if missing).")]) -> None:
    """Write the public surfaces as static files (banner.json, banner.js, status/index.html, feeds,
    api/v2/*.json) for a CDN or any web server: the same bytes `serve --public` answers with."""
    from broadcaster.surfaces import export_static

    from ..store.db import require_current_schema

    settings = get_settings()
    require_current_schema(settings.database_url)
    written = export_static(settings, directory)
    out.print(f"wrote {len(written)} files to {directory}")
