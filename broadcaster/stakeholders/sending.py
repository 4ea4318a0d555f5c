"""What publishing a version writes for the stakeholder audiences: one delivery per member's email
address and phone number (one per address, however many audiences name it), carrying the version's
stakeholder rendition, in the publish transaction like the live surfaces. An audience that hears only
the opening and the resolution is skipped on the updates in between. A statement submitted before
stakeholder renditions existed has none, and writes nothing."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audience.notify_rules import event_of
from ..channels import transport_for
from ..config import Settings
from ..delivery.records import add_deliveries
from ..store.models import Statement
from ..store.stakeholder_models import StakeholderAudience
from .sends_on import EMAIL_CHANNEL, SMS_CHANNEL, SendsOn

RENDITION = "stakeholder"


def deliveries_for(settings: Settings, s: Session, statement: Statement, event: str | None = None) -> list[int]:
    """`event`: the statement's `event_of`, when the caller has it already."""
    if not any(r.channel == RENDITION for r in statement.renditions):
        return []
    event = event or event_of(s, statement)
    targets: dict[tuple[str, str], None] = {}
    for audience in s.scalars(select(StakeholderAudience).order_by(StakeholderAudience.id)):
        if audience.sends_on == SendsOn.OPEN_AND_RESOLVE and event == "update":
            continue
        for member in audience.members:
            if member.email:
                targets[(EMAIL_CHANNEL, member.email)] = None
            if member.phone:
                targets[(SMS_CHANNEL, member.phone)] = None
    providers = {name: transport_for(name, settings).provider for name in (EMAIL_CHANNEL, SMS_CHANNEL)}
    return add_deliveries(s, [{"statement_id": statement.id, "channel": channel, "target": target,
                               "provider": providers[channel]} for channel, target in targets])
