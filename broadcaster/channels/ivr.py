"""The phone line's message: what callers hear (TwiML `<Say>`), switched like the banner; and
the calls back to callers who asked to hear when it is fixed (`followup.py`).

A delivery whose target is the channel's own name switches the line's message. A delivery whose
target is a phone number is a call back: the Twilio Calls API is given a `url=` (our signed
`/ivr/resolved` endpoint), which answers with the statement's stored IVR script. Without Twilio
credentials and a public URL, the call is only logged (`simulated`).
"""

import re
from collections.abc import Iterator
from urllib.parse import urlencode

from ..config import Settings
from ..render.limits import LimitCheck
from .base import Channel, Kind, SendContext, SendResult, Target, TransportError
from .live import LiveSurface

NAME = "ivr"


def spoken_seconds(script: str, words_per_minute: int) -> float:
    words = len(re.findall(r"\w+", script))
    return round(words * 60.0 / words_per_minute, 1)


def check_ivr(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    seconds = spoken_seconds(fields["script"], settings.ivr_words_per_minute)
    yield LimitCheck(
        "ivr", "spoken length", seconds, settings.ivr_max_seconds, "seconds",
        f"at {settings.ivr_words_per_minute} words per minute",
    )


def calls_configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
                and settings.public_url and not settings.simulate)


def call_provider(settings: Settings) -> str:
    return "twilio" if calls_configured(settings) else "log"


def resolved_script_url(settings: Settings, statement_id: int) -> str:
    return f"{(settings.public_url or '').rstrip('/')}/ivr/resolved?" + urlencode({"statement": statement_id})


class PhoneLine(LiveSurface):
    """The line's message switches like any surface; a phone-number target is a call back."""

    def __init__(self, settings: Settings):
        super().__init__(NAME)
        self.settings = settings
        self._calls = None

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        switches = [t for t in targets if t.address == NAME]
        return super().notify(fields, switches, context) + [self.call(t, context) for t in targets
                                                            if t.address != NAME]

    def call(self, target: Target, context: SendContext) -> SendResult:
        url = resolved_script_url(self.settings, context.statement_id)
        if not calls_configured(self.settings):
            return SendResult(target.delivery_id, "simulated", None, f"log provider: would call with url={url}")
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            call = self.calls().create(to=target.address, from_=self.settings.twilio_from, url=url, method="POST")
        except TwilioRestException as exc:
            raise TransportError(f"Twilio refused the call: {exc.msg}", permanent=400 <= exc.status < 500
                                 and exc.status != 429, code=str(exc.code or exc.status)) from None
        except (TwilioException, OSError) as exc:
            raise TransportError(f"cannot reach Twilio: {exc}") from None
        return SendResult(target.delivery_id, "sent", call.sid, f"calling back with url={url}")

    def calls(self):
        if self._calls is None:
            from twilio.rest import Client

            client = Client(self.settings.twilio_account_sid, self.settings.twilio_auth_token)
            if self.settings.twilio_api_base:
                client.api.base_url = self.settings.twilio_api_base.rstrip("/")
            self._calls = client.calls
        return self._calls


# A live surface like the others (see live.live_surface), with the line's own transport.
CHANNEL = Channel(NAME, Kind.LIVE, PhoneLine, limits=check_ivr, idempotent=True)
