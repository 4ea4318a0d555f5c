"""Stakeholder audiences' words (`templates/stakeholder/`) and the two ways they go: email through
SendGrid and SMS through Twilio, to the people on the lists an admin keeps (`stakeholders/`).

`stakeholder` holds the rendition (approved with the statement, limit-checked) and sends nothing
itself; `stakeholder_email` and `stakeholder_sms` send it (`renditions_of`), one delivery per address,
written at publish (`Kind.LIST`). Their errors are the providers' own tables (email.py, sms.py).
Stakeholders are not subscribers: no unsubscribe link (an admin takes them off the list), no opt-out.
"""

from collections.abc import Iterator
from dataclasses import replace

from ..config import Settings
from ..render.limits import LimitCheck
from .base import Channel, Kind, SendContext, SendResult, Target, TransportError
from .email import SendGridEmail
from .sms import TwilioSms, check_sms

RENDITION = "stakeholder"
EMAIL_FIELDS = ("subject", "body_text", "body_html")


class RenditionOnly:
    """The `stakeholder` rendition is sent by the two channels below, never by itself."""

    provider = "builtin"
    batch_size = 1
    account = RENDITION

    def __init__(self, _: Settings):
        pass

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        raise TransportError("stakeholder: the rendition is sent as stakeholder_email and stakeholder_sms",
                             permanent=True)


class StakeholderEmail:
    provider = "sendgrid"
    account = "sendgrid"

    def __init__(self, settings: Settings):
        self.email = SendGridEmail(settings)
        self.batch_size = self.email.batch_size

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        # Not a subscriber's email: no List-Unsubscribe (the subscribers' requirement), so no statement context.
        plain = [replace(target, unsubscribe_url=None) for target in targets]
        return self.email.notify({name: fields[name] for name in EMAIL_FIELDS}, plain,
                                 replace(context, statement_id=None))


class StakeholderSms:
    provider = "twilio"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.sms = TwilioSms(settings)
        self.account = self.sms.account

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        return self.sms.notify({"text": fields["sms"]}, targets, context)

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        return self.sms.find_sent({"text": fields["sms"]}, target, since_iso)


def check_stakeholder(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    yield LimitCheck(RENDITION, "email subject length", len(fields["subject"]), settings.email_subject_max_chars,
                     "characters")
    for check in check_sms({"text": fields["sms"]}, settings):
        yield replace(check, channel=RENDITION, name=f"sms {check.name}")


CHANNEL = (
    Channel(RENDITION, Kind.ON_DEMAND, RenditionOnly, limits=check_stakeholder),
    Channel("stakeholder_email", Kind.LIST, StakeholderEmail, renditions_of=RENDITION,
            configured=lambda s: bool(s.sendgrid_api_key), rate=lambda s: s.sendgrid_rate,
            batch_size=lambda s: min(s.email_batch_size, 1000)),
    Channel("stakeholder_sms", Kind.LIST, StakeholderSms, renditions_of=RENDITION,
            configured=lambda s: bool(s.twilio_account_sid and s.twilio_auth_token), rate=lambda s: s.twilio_rate),
)
