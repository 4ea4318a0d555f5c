"""A job repeated in a background thread for as long as a block runs."""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger("broadcaster")


@contextmanager
def every(seconds: float, job: Callable[[], object], name: str, immediately: bool = False) -> Iterator[None]:
    """Run `job` every `seconds` (and once at the start if `immediately`) until the block ends; a
    failing round is logged, not fatal."""
    stop = threading.Event()

    def loop() -> None:
        if immediately:
            run()
        while not stop.wait(seconds):
            run()

    def run() -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - the next round may succeed; say why this one failed
            logger.exception("%s failed", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
