"""Scheduled maintenance: planned work in a window, said ahead of time.

A maintenance is an incident of kind `maintenance` whose statements carry Statuspage's
maintenance statuses. It is scheduled with three statements approved up front: `scheduled`
(published at once), `in_progress` (published at the window's start) and `completed` (at its end).
"""

from datetime import datetime, timedelta
from enum import StrEnum

from .errors import InvalidInput

KIND = "maintenance"
LONGEST_WINDOW = timedelta(days=7)


class MaintenanceStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("maintenance window: give times with a zone offset, e.g. 2026-11-24T02:00+00:00")
    if end <= start:
        raise InvalidInput(f"maintenance window: the end ({end.isoformat()}) must come after the start "
                           f"({start.isoformat()})")
    if start <= now:
        raise InvalidInput(f"maintenance window: the start ({start.isoformat()}) has passed; schedule it ahead")
    if end - start > LONGEST_WINDOW:
        raise InvalidInput(f"maintenance window: longer than {LONGEST_WINDOW.days} days; split it")
