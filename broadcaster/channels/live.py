"""What the built-in live surfaces (banner, status page, IVR message) share.

"Sent" means the public state switched: the surfaces serve the newest statement whose
delivery to them is ``sent`` (the database is the truth), so switching is recording
that delivery. The commit that records it is the atomic switch.
"""

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from .base import Channel, Kind, LimitChecker, SendContext, SendResult, Target


class LiveSurface:
    provider = "builtin"
    batch_size = 1

    def __init__(self, channel: str):
        self.channel = channel
        self.account = channel

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        return [SendResult(t.delivery_id, DeliveryStatus.SENT, f"{self.channel}-v{context.version}",
                           f"{self.channel} now shows statement {context.statement_id} v{context.version}")
                for t in targets]


def live_surface(name: str, limits: LimitChecker | None = None) -> Channel:
    """A built-in surface: always configured, and showing the same version twice is harmless,
    so after a crash it is simply shown again."""
    def transport(_: Settings) -> LiveSurface:
        return LiveSurface(name)

    return Channel(name, Kind.LIVE, transport, limits=limits, idempotent=True)
