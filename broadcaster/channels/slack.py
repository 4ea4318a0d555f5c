"""Slack: each live version posted to the team's channel by the Slack app's bot (the official
`slack_sdk`, `chat.postMessage`, Block Kit: `templates/slack/`). An incident's first post starts a
thread and every later version is a reply in it: the delivery records the thread's root (`ts`), which
`SendContext.reply_to` hands to the next version. A message on this channel (an approval request) is a
DM to each target, a Slack member id; its delivery records `<DM channel>/<ts>` for `chat.update`.

A Slack answer is `ok: false` with an error code; the table below says what each means. A post whose
answer never came (a read timeout, a dropped connection) may be in the channel: `unknown`, never resent
blindly (a second post in the thread is worse than a late one).
"""

import json
from collections.abc import Iterator

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..render.limits import LimitCheck
from .base import (
    Channel,
    ErrorTable,
    Kind,
    SendContext,
    SendResult,
    Target,
    TransportError,
    request_never_left,
    retry_after_seconds,
)

# https://api.slack.com/methods/chat.postMessage#errors
SLACK_ERRORS = ErrorTable(
    credentials={"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
                 "missing_scope", "ekm_access_denied", "team_access_not_granted"},
    permanent={"channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text", "invalid_blocks",
               "invalid_blocks_format", "too_many_attachments", "restricted_action", "thread_not_found",
               "invalid_arguments", "duplicate_channel_not_found"},
    transient={"ratelimited", "rate_limited", "service_unavailable", "request_timeout"},
)
HEADER_CHARS = 150  # Block Kit: a header's text
SECTION_CHARS = 3000  # Block Kit: a section's text
MOST_BLOCKS = 50  # Block Kit: blocks in one message
TEXT_CHARS = 4000  # chat.postMessage: longer text is truncated


class SlackPosts:
    provider = "slack"
    batch_size = 1

    def __init__(self, settings: Settings):
        from slack_sdk import WebClient

        base = {"base_url": settings.slack_api_url.rstrip("/") + "/"} if settings.slack_api_url else {}
        self.client = WebClient(token=settings.slack_bot_token, timeout=int(settings.provider_timeout_seconds), **base)
        self.channel = settings.slack_channel
        self.account = f"slack:{settings.slack_channel}"

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        if context.statement_id is None:  # a message (an approval request): a DM to each target's member id
            return [self._direct(fields, target) for target in targets]
        thread = context.reply_to or None
        answer = post(self.client, channel=self.channel, text=fields["text"], blocks=json.loads(fields["blocks"]),
                      thread_ts=thread, unfurl_links=False, unfurl_media=False)
        root = thread or answer["ts"]
        return [SendResult(t.delivery_id, DeliveryStatus.SENT, root,
                           f"posted to {self.channel} at {answer['ts']}" + (f" in thread {root}" if thread else ""))
                for t in targets]


    def _direct(self, fields: dict[str, str], target: Target) -> SendResult:
        # chat.postMessage to a member id opens the app's DM with them; `chat.update` later needs the
        # DM's own id (D...), so the provider id is `<channel>/<ts>` (see `message_ref`).
        answer = post(self.client, channel=target.address, text=fields["text"], blocks=json.loads(fields["blocks"]),
                      unfurl_links=False, unfurl_media=False)
        return SendResult(target.delivery_id, DeliveryStatus.SENT, message_ref(answer["channel"], answer["ts"]),
                          f"sent to {target.address} in Slack ({answer['channel']} at {answer['ts']})")


def message_ref(channel: str, ts: str) -> str:
    """A Slack message as a delivery records it: what `chat.update` needs to find it again."""
    return f"{channel}/{ts}"


def update(settings: Settings, ref: str, text: str, blocks: list) -> None:
    """Replace a message the bot posted (`message_ref`) with new words (an approval request once decided)."""
    channel, _, ts = ref.partition("/")
    post(SlackPosts(settings).client, "chat_update", channel=channel, ts=ts, text=text, blocks=blocks)


def tell(settings: Settings, channel: str, user: str, text: str) -> None:
    """A note only `user` sees in `channel` (what happened to their click)."""
    post(SlackPosts(settings).client, "chat_postEphemeral", channel=channel, user=user, text=text)


def post(client, method: str = "chat_postMessage", **arguments) -> dict:
    """One Web API call; its failure as the TransportError the table says."""
    from slack_sdk.errors import SlackApiError

    try:
        return getattr(client, method)(**arguments).data
    except SlackApiError as e:
        raise slack_error(e) from e
    except OSError as e:  # URLError, refused, timeout, dropped
        if request_never_left(e):
            raise TransportError(f"slack: not sent, the request never reached Slack: {e}") from e
        raise TransportError(f"slack: no answer after the request was sent; it may have been posted: {e!r}",
                             code="no answer", ambiguous=True) from e


def slack_error(e) -> TransportError:
    response = e.response
    code = str(response.get("error") or response.status_code) if response is not None else "no answer"
    status = response.status_code if response is not None else 500
    retry = retry_after_seconds((response.headers or {}).get("Retry-After")) if response is not None else None
    return SLACK_ERRORS.error(f"slack: {code}", code, status, retry)


def check_slack(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    try:
        blocks = json.loads(fields["blocks"])
    except ValueError as e:
        yield LimitCheck("slack", "invalid blocks", 1, 0, "", str(e))
        return
    yield LimitCheck("slack", "blocks", len(blocks), MOST_BLOCKS, "blocks")
    yield LimitCheck("slack", "text", len(fields["text"]), TEXT_CHARS, "characters")
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "header":
            yield LimitCheck("slack", "header", len(text), HEADER_CHARS, "characters")
        elif block["type"] == "section":
            yield LimitCheck("slack", "section", len(text), SECTION_CHARS, "characters")


CHANNEL = Channel(
    "slack", Kind.LIVE, SlackPosts, limits=check_slack, threads_updates=True,
    configured=lambda s: bool(s.slack_bot_token and s.slack_channel), rate=lambda s: s.slack_rate,
)
