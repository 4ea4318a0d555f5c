"""Microsoft Teams: each live version posted to a channel through its Workflows incoming webhook
("Post to a channel when a webhook request is received"), as an Adaptive Card (`templates/teams/`).

The webhook answers 202 once the flow has the card. 401, 403 and 404 say the URL no longer works (the
flow was turned off or deleted): the channel is paused until it does. A request whose answer never
came may have posted: `unknown`, for an operator, never resent blindly.
"""

import json
from collections.abc import Iterator

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..render.limits import LimitCheck
from .base import Channel, ErrorTable, Kind, SendContext, SendResult, Target, TransportError, retry_after_seconds

TEAMS_ERRORS = ErrorTable(credentials={"401", "403", "404"}, permanent={"400", "413"}, transient={"429"})
MOST_BYTES = 28_000  # Teams refuses a message over about 28 KB
CARD = "application/vnd.microsoft.card.adaptive"


class TeamsWebhook:
    provider = "teams"
    batch_size = 1
    account = "teams"

    def __init__(self, settings: Settings):
        self.url = settings.teams_webhook_url
        self.timeout = settings.provider_timeout_seconds

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        message = {"type": "message", "attachments": [{"contentType": CARD, "contentUrl": None,
                                                       "content": json.loads(fields["card"])}]}
        import httpx  # here: a process that renders or lists channels does not load it

        try:
            response = httpx.post(self.url, json=message, timeout=self.timeout, trust_env=False)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise TransportError(f"teams: not sent, the request never reached the webhook: {e}") from e
        except httpx.HTTPError as e:
            raise TransportError(f"teams: no answer after the card was sent; it may have been posted: {e!r}",
                                 code="no answer", ambiguous=True) from e
        if response.status_code >= 300:
            code = str(response.status_code)
            raise TEAMS_ERRORS.error(f"teams: {code} {response.text[:200]}", code, response.status_code,
                                     retry_after_seconds(response.headers.get("Retry-After")))
        run = response.headers.get("x-ms-workflow-run-id") or f"teams-{context.statement_id}-v{context.version}"
        return [SendResult(t.delivery_id, DeliveryStatus.SENT, run, f"posted to Teams ({response.status_code})")
                for t in targets]


def check_teams(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    try:
        json.loads(fields["card"])
    except ValueError as e:
        yield LimitCheck("teams", "invalid card", 1, 0, "", str(e))
        return
    yield LimitCheck("teams", "size", len(fields["card"].encode()), MOST_BYTES, "bytes")


CHANNEL = Channel(
    "teams", Kind.LIVE, TeamsWebhook, limits=check_teams,
    configured=lambda s: bool(s.teams_webhook_url), rate=lambda s: s.teams_rate,
)
