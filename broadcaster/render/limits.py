"""Hard limits of each channel, measured on the rendered text.

A statement whose renditions break a limit cannot be submitted; the check says
which channel, which limit, the measured value and by how much it is over.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import smsutil

from ..config import Settings


@dataclass(frozen=True)
class LimitCheck:
    channel: str
    name: str
    measured: float
    limit: float
    unit: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.measured <= self.limit

    @property
    def excess(self) -> float:
        return max(0.0, self.measured - self.limit)

    @property
    def usage(self) -> float:
        """How close to the limit, 0..1+ (what the preview shows as a percentage)."""
        return self.measured / self.limit if self.limit else 0.0

    def describe(self) -> str:
        text = f"{self.channel}: {self.name} is {_num(self.measured)} {self.unit}, limit {_num(self.limit)}"
        if not self.ok:
            text += f", over by {_num(self.excess)}"
        return text + (f" ({self.detail})" if self.detail else "")

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok, "excess": self.excess}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def sms_encoding(text: str) -> tuple[str, str | None]:
    """('GSM-7', None) or ('UCS-2', the first character GSM-7 cannot carry)."""
    if smsutil.split(text).encoding == "gsm0338":
        return "GSM-7", None
    culprit = next(ch for ch in text if smsutil.split(ch).encoding != "gsm0338")
    return "UCS-2", culprit


def check_sms(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    text = fields["text"]
    split = smsutil.split(text)
    encoding, culprit = sms_encoding(text)
    detail = f"{encoding}, {len(text)} characters"
    if culprit:
        detail += f"; UCS-2 because of {culprit!r} (U+{ord(culprit):04X})"
    yield LimitCheck("sms", "segments", len(split.parts), settings.sms_max_segments, "segments", detail)
    # Carriers filter long concatenated messages; Twilio advises 320 characters at most.
    yield LimitCheck("sms", "length", len(text), settings.sms_max_chars, "characters", "deliverability")


def check_x(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    from twitter_text import parse_tweet  # half a second to import: only pay it when checking a post

    weighted = parse_tweet(fields["text"]).weightedLength
    yield LimitCheck(
        "x", "weighted length", weighted, settings.x_max_weighted_length, "characters",
        "URLs count 23, CJK and emoji count 2",
    )


def spoken_seconds(script: str, words_per_minute: int) -> float:
    words = len(re.findall(r"\w+", script))
    return round(words * 60.0 / words_per_minute, 1)


def check_ivr(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    seconds = spoken_seconds(fields["script"], settings.ivr_words_per_minute)
    yield LimitCheck(
        "ivr", "spoken length", seconds, settings.ivr_max_seconds, "seconds",
        f"at {settings.ivr_words_per_minute} words per minute",
    )


def check_email(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    yield LimitCheck("email", "subject length", len(fields["subject"]), settings.email_subject_max_chars, "characters")


def check_banner(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    yield LimitCheck("banner", "lines", len(fields["text"].splitlines()), 1, "lines")


CHECKS: dict[str, Callable[[dict[str, str], Settings], Iterator[LimitCheck]]] = {
    "sms": check_sms,
    "x": check_x,
    "ivr": check_ivr,
    "email": check_email,
    "banner": check_banner,
}


def check_limits(renditions: dict[str, dict[str, str]], settings: Settings) -> list[LimitCheck]:
    checks: list[LimitCheck] = []
    for channel, fields in renditions.items():
        if channel in CHECKS:
            checks.extend(CHECKS[channel](fields, settings))
    return checks
