"""What kind of notice a statement is: the templates word each one on purpose.

A customer reads one SMS at the worst moment of their day, so each kind says what is true now:
an open incident leads with what is wrong, a resolved one with what is fixed (its own resolution
line, never the outage's headline), a maintenance with when it happens. Besides its notice, a
statement may be in disaster mode (the contact centre cannot take calls: every channel says
where to go instead), and a resolved incident also has the words that answer the callers who
asked to hear when it was fixed (`sms.followup`, `ivr.callback`).
"""

from enum import StrEnum

from .errors import InvalidInput
from .incident import IncidentStatus
from .maintenance_window import KIND as MAINTENANCE
from .maintenance_window import MaintenanceStatus

RESOLUTION_MAX_CHARS = 500


class Notice(StrEnum):
    INCIDENT = "incident"  # investigating, identified, monitoring: still going on
    RESOLVED = "resolved"
    MAINTENANCE_SCHEDULED = "maintenance_scheduled"
    MAINTENANCE_IN_PROGRESS = "maintenance_in_progress"
    MAINTENANCE_COMPLETED = "maintenance_completed"


_MAINTENANCE = {MaintenanceStatus.SCHEDULED.value: Notice.MAINTENANCE_SCHEDULED,
                MaintenanceStatus.IN_PROGRESS.value: Notice.MAINTENANCE_IN_PROGRESS,
                MaintenanceStatus.VERIFYING.value: Notice.MAINTENANCE_IN_PROGRESS,
                MaintenanceStatus.COMPLETED.value: Notice.MAINTENANCE_COMPLETED}


def notice_of(kind: str, status: str) -> Notice:
    if kind == MAINTENANCE:
        return _MAINTENANCE[status]
    return Notice.RESOLVED if status == IncidentStatus.RESOLVED.value else Notice.INCIDENT


def needs_resolution(kind: str, status: str) -> bool:
    """A resolved incident says first what is fixed, in a line of its own."""
    return notice_of(kind, status) is Notice.RESOLVED


def check_resolution(kind: str, status: str, resolution: str, field: str = "resolution") -> str:
    """The resolution line to keep: required when resolved, dropped otherwise (a new version that
    reopens an incident must not carry 'fixed' forward)."""
    if not needs_resolution(kind, status):
        return ""
    resolution = (resolution or "").strip()
    if not resolution:
        raise InvalidInput(f"{field}: required when the status is resolved: one line saying what is fixed, "
                           "e.g. 'Logins work normally again.' (customers read it first, instead of the headline)")
    if len(resolution) > RESOLUTION_MAX_CHARS:
        raise InvalidInput(f"{field}: at most {RESOLUTION_MAX_CHARS} characters, got {len(resolution)}")
    return resolution
