"""The `log` provider: records exactly what it would send, and sends nothing."""

import logging

from ..domain.delivery_status import DeliveryStatus
from ..domain.hashing import canonical_json
from .base import SendContext, SendResult, Target

logger = logging.getLogger("broadcaster.send")
LOG_PROVIDER = "log"  # the provider name of what was recorded, never sent


class LogTransport:
    provider = LOG_PROVIDER
    account = "log"

    def __init__(self, channel: str, batch_size: int = 1):
        self.channel = channel
        self.batch_size = batch_size

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            payload = canonical_json({"channel": self.channel, "to": target.address,
                                      "delivery": target.delivery_id, **fields}).decode()
            logger.info("simulated %s to %s: %s", self.channel, target.address, payload)
            results.append(SendResult(target.delivery_id, DeliveryStatus.SIMULATED, f"log-{target.delivery_id}",
                                      payload))
        return results

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        return None  # nothing was sent, so simulating it again costs nothing
