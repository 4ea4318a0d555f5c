"""What an integrator can subscribe to (broadcaster.events): one vocabulary, named once, here in the
domain so the layers that raise an event (delivery, incidents, approvals) name it without importing
the events capability."""

from enum import StrEnum


class EventType(StrEnum):
    INCIDENT_OPENED = "incident.opened"
    STATEMENT_SUBMITTED = "statement.submitted"
    STATEMENT_APPROVED = "statement.approved"
    STATEMENT_PUBLISHED = "statement.published"
    DELIVERY_FAILED = "delivery.failed"
    CHANNEL_PAUSED = "channel.paused"
    CHANNEL_RESUMED = "channel.resumed"
