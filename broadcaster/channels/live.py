"""Built-in live surfaces: the banner, the status page, the IVR message.

"Sent" means the public state switched: the surfaces serve the newest statement whose
delivery to them is ``sent`` (the database is the truth), so switching is recording
that delivery. The commit that records it is the atomic switch.
"""

from .base import SendContext, SendResult, Target


class LiveSurface:
    provider = "builtin"
    batch_size = 1
    idempotent = True  # showing the same version twice is harmless: resend after a crash

    def __init__(self, channel: str):
        self.channel = channel
        self.account = channel

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        return [SendResult(t.delivery_id, "sent", f"{self.channel}-v{context.version}",
                           f"{self.channel} now shows statement {context.statement_id} v{context.version}")
                for t in targets]
