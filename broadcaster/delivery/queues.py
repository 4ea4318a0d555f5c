"""The broker's queues, by name: what `broker` routes each task to and what a worker takes. Apart from
`broker` so that naming them (`broadcaster worker --help` lists them) does not load Celery."""

from enum import StrEnum


class Queue(StrEnum):
    LIVE = "live"  # single-target channels (banner, status page, IVR, X) and the periodic jobs
    BULK = "bulk"  # per-recipient chunks and the fan-outs that write them
    RECONCILE = "reconcile"  # slow provider lists, never ahead of the live queue


EVERY_QUEUE = ",".join(queue.value for queue in Queue)  # what a worker takes unless told otherwise
