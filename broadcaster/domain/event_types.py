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
    # The live agent notes of a version just published (the contact centre's words, for a helpdesk or
    # a knowledge base): internal, so an endpoint gets them only by naming this type.
    AGENT_NOTES_PUBLISHED = "agent_notes.published"


# Sent only to an endpoint that chose them by name: "every type" (no types given) leaves them out.
CHOSEN_ONLY = frozenset({EventType.AGENT_NOTES_PUBLISHED})
