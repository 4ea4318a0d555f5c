"""The embedded default: a Celery worker in a thread of this process, on the memory broker.

With no Redis, `broadcaster publish` and `broadcaster serve` still deliver through the same
tasks. What the memory broker loses when the process exits, the sweep finds in the database.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery
from celery.worker import WorkController

from broadcaster.delivery.broker import Queue, TaskName


class _Controller(WorkController):
    def __init__(self, *args, **kwargs):
        self.ready = threading.Event()
        super().__init__(*args, **kwargs)

    def on_consumer_ready(self, consumer) -> None:
        self.ready.set()


@contextmanager
def in_process_worker(app: Celery, timeout: float = 10.0) -> Iterator[WorkController]:
    worker = _Controller(app=app, pool="solo", concurrency=1, queues=[queue.value for queue in Queue],
                         loglevel="WARNING", without_heartbeat=True, without_mingle=True, without_gossip=True,
                         hostname="embedded@local")
    thread = threading.Thread(target=worker.start, name="broadcaster-worker", daemon=True)
    thread.start()
    if not worker.ready.wait(timeout):
        raise RuntimeError("the in-process worker did not start")
    try:
        yield worker
    finally:
        # Asked from outside, the worker notices only after its 2-second poll; a task that
        # asks from inside stops it at once (see workers.tasks.stop_embedded_worker).
        app.send_task(TaskName.STOP_EMBEDDED_WORKER.value)  # routed by the vocabulary's queue table
        thread.join(timeout)
        from celery.worker import state

        state.should_terminate = None
