"""The phone line's message: what callers hear (TwiML `<Say>`), switched like the banner; and the
calls back to callers who asked to hear when it is fixed (`followup.py`).

Two channels. `ivr` is a live surface: its delivery switches the line's message, and showing a
version twice is harmless. `call` phones one caller back: the Twilio Calls API is given a `url=`
(our signed `/ivr/resolved` endpoint), which answers with the statement's stored `ivr` script.
A second call is not harmless, so a call whose outcome is unknown (a 5xx, a read timeout) is
looked up in Twilio's call list before anything is placed again, as an SMS is. Without Twilio
credentials and a public URL, a call is only logged (`simulated`).
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..render.limits import LimitCheck
from ._twilio import SDK_ERRORS, transport_error, twilio_client
from .base import Channel, Kind, SendContext, SendResult, Target, TransportError
from .live import live_surface

NAME = "ivr"
CALL = "call"

# What one <Say> may hold, by text-to-speech engine (Twilio error 13521), in UTF-8 bytes.
SAY_LIMITS = {"Polly.": 3000, "Google.": 5000}
BASIC_SAY_LIMIT = 4096


def spoken_seconds(script: str, words_per_minute: int) -> float:
    words = len(re.findall(r"\w+", script))
    return round(words * 60.0 / words_per_minute, 1)


def say_limit(voice: str) -> int:
    """The length one <Say> may have for this voice: Polly 3,000, Google 5,000, basic 4,096."""
    return next((limit for prefix, limit in SAY_LIMITS.items() if voice.startswith(prefix)), BASIC_SAY_LIMIT)


def check_ivr(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    seconds = spoken_seconds(fields["script"], settings.ivr_words_per_minute)
    yield LimitCheck(
        "ivr", "spoken length", seconds, settings.ivr_max_seconds, "seconds",
        f"at {settings.ivr_words_per_minute} words per minute",
    )
    # Words per minute cannot see a long token (a URL, a reference): the engine counts characters.
    yield LimitCheck("ivr", "text-to-speech length", len(fields["script"].encode("utf-8")),
                     say_limit(settings.ivr_voice), "bytes", f"one <Say> for {settings.ivr_voice}")


def calls_configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
                and settings.public_url)


def resolved_script_url(settings: Settings, statement_id: int, locale: str | None = None) -> str:
    """Where the answered call fetches what it says: the statement's call-back words in `locale`, the
    language the caller chose on the phone line (`/ivr/resolved` reads `lang`)."""
    query = {"statement": statement_id, **({"lang": locale} if locale else {})}
    return f"{(settings.public_url or '').rstrip('/')}/ivr/resolved?" + urlencode(query)


class TwilioCall:
    """A call back, placed with Twilio's Calls API; the answered call fetches `url=`."""

    provider = "twilio"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.settings = settings
        # Calls have their own pace (Twilio's calls per second), apart from the account's SMS.
        self.account = f"{settings.twilio_account_sid}:calls"
        client, self.http = twilio_client(settings)
        self.calls = client.calls

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        url = resolved_script_url(self.settings, context.statement_id, context.locale)
        results = []
        for target in targets:
            try:
                call = self.calls.create(to=target.address, from_=self.settings.twilio_from, url=url, method="POST")
            except SDK_ERRORS as e:
                raise transport_error(e, self.http) from e
            results.append(SendResult(target.delivery_id, DeliveryStatus.SENT, call.sid,
                                      f"calling back with url={url}"))
        return results

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        """A call from our number to this one created since the first attempt. Twilio keeps nothing
        of ours on a call to tell two apart, so two call-backs to one number whose attempts overlap
        count as one: calling once too few, never once too many."""
        since = datetime.fromisoformat(since_iso)
        since = since if since.tzinfo else since.replace(tzinfo=UTC)  # we store UTC
        try:
            # By date_created here: a call still queued has no start time yet.
            for call in self.calls.page(to=target.address, from_=self.settings.twilio_from, page_size=50):
                if call.date_created is None or call.date_created >= since:
                    return call.sid
        except SDK_ERRORS as e:
            raise TransportError(f"twilio: could not list calls: {e}") from e
        return None


CHANNEL = (
    live_surface(NAME, limits=check_ivr),
    # Written by the follow-up on resolve, one per caller; sends the `ivr` rendition (the script
    # `/ivr/resolved` plays), never resent while its outcome is unknown.
    Channel(CALL, Kind.ON_DEMAND, TwilioCall, configured=calls_configured, rate=lambda s: s.twilio_call_rate,
            renditions_of=NAME, bulk=True, follows_up=lambda s: s.ivr_callback_calls),
)
