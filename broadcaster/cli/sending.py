"""After a command has queued work: send it, or say who will.

Embedded (no broker to share), nothing else would send it, so the command sends it here, with a
worker in this process, as `publish` always has; with a broker the fleet's workers send it, and
the command watches. `--no-wait` returns at once and says so: what it queued waits in the
database (the memory broker forgets it when this process exits), and the next `broadcaster
serve` (or worker) finds it with its first sweep.
"""

import time
from collections.abc import Callable

import typer
from rich.markup import escape

from ..domain.delivery_status import PREPARING, DeliveryStatus
from .common import get_settings, out
from .run import embedded_worker
from .views import left_out_lines, plural, progress_table, published_line


def sender_settings(command: typer.Context):
    """The settings of a command that queues work; embedded, this process will send it, so it is held
    to what a worker is held to at start-up (a configured provider that needs BROADCASTER_PUBLIC_URL)."""
    from ..delivery.links import require_public_url

    settings = get_settings()
    if settings.embedded:
        require_public_url(settings, command.command_path.partition(" ")[2] or command.command_path)
    return settings


def queued_note(settings) -> str:
    """What --no-wait leaves behind, and who sends it."""
    if settings.embedded:
        return ("queued, not sent yet: the next `broadcaster serve` sends it (its sweep finds it in the database "
                "within a minute)")
    return "queued: the workers send it; `broadcaster status` and `broadcaster log` show how far they got"


def follow(settings, st: dict, wait: bool) -> None:
    """Say what a publish wrote; then send and watch the fan-out (--wait), or say it is queued."""
    out.print(published_line(st))
    for line in left_out_lines(settings, st):
        out.print(escape(line), highlight=False)
    follow_statements(settings, [st["id"]], wait)


def follow_statements(settings, statement_ids: list[int], wait: bool) -> None:
    if not statement_ids:
        return
    if not wait:
        out.print(queued_note(settings))
        return
    with embedded_worker(settings):
        for statement_id in statement_ids:
            watch(settings, statement_id)


def follow_deliveries(settings, delivery_ids: list[int], wait: bool, say: Callable[[dict[int, str]], None]) -> None:
    """Send these deliveries here when embedded (or watch the workers send them), then `say` their
    statuses; --no-wait: say they are queued."""
    from ..delivery import progress

    if not delivery_ids:
        return
    if not wait:
        out.print(queued_note(settings))
        return
    try:
        with embedded_worker(settings):
            shown = progress.statuses(settings, delivery_ids)
            while not progress.settled(shown):
                time.sleep(0.2)
                shown = progress.statuses(settings, delivery_ids)
    except KeyboardInterrupt:
        out.print(_stopped(settings))
        return
    say(shown)


def watch(settings, statement_id: int, poll: float = 0.3) -> None:
    """Live progress per channel until nothing is in flight; Ctrl-C stops watching, not sending."""
    from rich.live import Live

    from ..delivery import progress

    try:
        first = progress_table(statement_id, progress.progress(settings, statement_id))
        with Live(first, console=out, refresh_per_second=4) as live:
            while True:
                counts = progress.progress(settings, statement_id)
                live.update(progress_table(statement_id, counts))
                if not any(c.get(k, 0) for c in counts.values() for k in (PREPARING, DeliveryStatus.PENDING,
                                                                          DeliveryStatus.SENDING)):
                    break
                time.sleep(poll)
    except KeyboardInterrupt:
        out.print(_stopped(settings))
        return
    waiting = sum(c.get(DeliveryStatus.RETRY, 0) for c in counts.values())
    unknown = sum(c.get(DeliveryStatus.UNKNOWN, 0) for c in counts.values())
    if waiting:
        out.print(f"{plural(waiting, 'delivery waits', 'deliveries wait')} for a retry; "
                  + ("the beat sweep will send them" if not settings.embedded else
                     "`broadcaster serve` sends them when due, or run `broadcaster sweep` later"))
    if unknown:
        out.print(f"{plural(unknown, 'delivery has', 'deliveries have')} an unknown fate: "
                  f"`broadcaster retry {statement_id} --unknown` resends them after you check")


def _stopped(settings) -> str:
    return ("stopped watching; the fan-out goes on" if not settings.embedded else
            "stopped: the rest waits in the database; `broadcaster serve` or `broadcaster sweep` sends it")


def drain(settings) -> None:
    from ..delivery import progress

    while progress.work_left(settings):
        time.sleep(0.2)
