"""The `log` provider: says what it would send and sends nothing."""

import logging

from ..domain.hashing import canonical_json
from .base import SendResult

logger = logging.getLogger("broadcaster.send")


class LogTransport:
    provider = "log"

    def __init__(self, channel: str):
        self.channel = channel

    def notify(self, fields: dict[str, str], target: str, delivery_id: int) -> SendResult:
        payload = canonical_json({"channel": self.channel, "to": target, "delivery": delivery_id, **fields})
        logger.info("simulated %s to %s: %s", self.channel, target, payload.decode())
        return SendResult("simulated", self.provider, f"log-{delivery_id}", payload.decode())
