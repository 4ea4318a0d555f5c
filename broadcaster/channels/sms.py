"""SMS through Twilio's Programmable Messaging API: one request per recipient."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache

import phonenumbers
from smsutil.codecs import GSM_CHARSET, GSM_EXT_CHARSET

from ..config import Settings
from ..domain.contacts import normalise_phone
from ..domain.delivery_status import DeliveryStatus
from ..render.limits import LimitCheck
from ._twilio import SDK_ERRORS, TWILIO_ERRORS, transport_error, twilio_client
from .base import Channel, Kind, SendContext, SendResult, SignUp, Target, TransportError

__all__ = ["CHANNEL", "TWILIO_ERRORS", "TwilioSms", "check_sms", "follow_up_words", "sms_encoding",
           "sms_segments"]


class TwilioSms:
    provider = "twilio"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.account = settings.twilio_account_sid
        self.client, self.http = twilio_client(settings)
        self.messages = self.client.messages  # resolves (and imports) the SDK's lazy chain once
        # A messaging service picks the sender from its pool; a plain number is the fallback.
        if settings.twilio_messaging_service_sid:
            self.sender = {"messaging_service_sid": settings.twilio_messaging_service_sid}
        else:
            self.sender = {"from_": settings.twilio_from}

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            extra = {"status_callback": target.status_callback_url} if target.status_callback_url else {}
            try:
                message = self.messages.create(to=target.address, body=fields["text"], **self.sender, **extra)
            except SDK_ERRORS as e:
                raise transport_error(e, self.http) from e
            results.append(SendResult(target.delivery_id, DeliveryStatus.SENT, message.sid))
        return results

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        # Filter on date_created here, not DateSent on the server: a message still queued
        # at Twilio has no date_sent yet, and missing it would mean texting twice.
        since = datetime.fromisoformat(since_iso)
        since = since if since.tzinfo else since.replace(tzinfo=UTC)  # we store UTC
        try:
            for message in self.messages.page(to=target.address, page_size=50):
                created = message.date_created
                if message.body == fields["text"] and (created is None or created >= since):
                    return message.sid
        except SDK_ERRORS as e:
            raise TransportError(f"twilio: could not list messages: {e}") from e
        return None

def follow_up_words(fields: dict[str, str]) -> dict[str, str]:
    """A caller who asked to hear when it is fixed gets the follow-up text (`sms/followup.txt`): a
    statement stored before that template existed has none, and they get its update."""
    return {**fields, "text": fields.get("followup") or fields["text"]}


# What smsutil.split sends as GSM-7 (its own test: every character in its GSM 03.38 set), found in one search.
_NOT_GSM = re.compile("[^" + re.escape(GSM_CHARSET) + "]")


def sms_encoding(text: str) -> tuple[str, str | None]:
    """('GSM-7', None) or ('UCS-2', the first character GSM-7 cannot carry)."""
    culprit = _NOT_GSM.search(text)
    return ("UCS-2", culprit.group()) if culprit else ("GSM-7", None)


# smsutil's segment sizes (a single message, then each part of a longer one) and per character: a
# GSM-7 character of its extension table takes two septets, a UCS-2 character outside the BMP four bytes.
_GSM = (160, 153, 1, re.compile("[" + re.escape(GSM_EXT_CHARSET) + "]"))
_UCS2 = (140, 134, 2, re.compile("[\U00010000-\U0010ffff]"))


@lru_cache(maxsize=4096)
def sms_segments(text: str) -> int:
    """``len(smsutil.split(text).parts)``, counted without building the parts (its loop of string
    concatenations, a character at a time, was most of an SMS check), and once per text: the
    preview, the submit and every language check the same texts again."""
    single, multi, weight, double = _GSM if text and not _NOT_GSM.search(text) else _UCS2
    doubled = {found.start() for found in double.finditer(text)}
    if weight * (len(text) + len(doubled)) <= single:
        return 1
    if not doubled:
        return -(-len(text) // (multi // weight))
    parts, used = 1, 0  # smsutil's greedy split: a character that does not fit starts the next part
    for at in range(len(text)):
        size = weight * (2 if at in doubled else 1)
        used += size
        if used > multi:
            parts, used = parts + 1, size
    return parts


def check_sms(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    text = fields["text"]
    encoding, culprit = sms_encoding(text)
    detail = f"{encoding}, {len(text)} characters"
    if culprit:
        detail += f"; UCS-2 because of {culprit!r} (U+{ord(culprit):04X})"
    yield LimitCheck("sms", "segments", sms_segments(text), settings.sms_max_segments, "segments", detail)
    # Carriers filter long concatenated messages; Twilio advises 320 characters at most.
    yield LimitCheck("sms", "length", len(text), settings.sms_max_chars, "characters",
                     "carriers may filter longer texts")
    followup = fields.get("followup")
    if followup:  # what callers who asked to hear back get instead (a resolved incident): sent too
        encoding, _ = sms_encoding(followup)
        yield LimitCheck("sms", "follow-up segments", sms_segments(followup), settings.sms_max_segments,
                         "segments", f"{encoding}, {len(followup)} characters")


def signup_number(settings: Settings, value: str) -> str:
    return normalise_phone(value, default_region=settings.default_phone_region)


def signup_rate_keys(settings: Settings, number: str) -> tuple[tuple[str, str], ...]:
    """Each code costs money, and a premium-rate number pays whoever owns it: codes are counted per
    client (`sms_signup_rate_per_client`, before the number is checked), per country calling code (a
    script walks one premium range) and for all numbers."""
    country = phonenumbers.parse(number).country_code
    return ((settings.sms_signup_rate_per_country, f"country:+{country}"),
            (settings.sms_signup_rate, "all:sms"))


CHANNEL = Channel(
    "sms", Kind.RECIPIENT, TwilioSms, address="phone", normalise=normalise_phone, limits=check_sms,
    configured=lambda s: bool(s.twilio_account_sid and s.twilio_auth_token),
    rate=lambda s: s.twilio_rate,
    signup=SignUp(by="code", check=signup_number, rate_keys=signup_rate_keys,
                  client_rate=lambda s: s.sms_signup_rate_per_client),  # a code texted back
    follows_up=lambda _: True,  # IVR callers who asked for a call-back get the resolved text
    follow_up_words=follow_up_words,
)
