"""The phone line's message: what callers hear (TwiML `<Say>`), switched like the banner."""

import re
from collections.abc import Iterator

from ..config import Settings
from ..render.limits import LimitCheck
from .live import live_surface


def spoken_seconds(script: str, words_per_minute: int) -> float:
    words = len(re.findall(r"\w+", script))
    return round(words * 60.0 / words_per_minute, 1)


def check_ivr(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    seconds = spoken_seconds(fields["script"], settings.ivr_words_per_minute)
    yield LimitCheck(
        "ivr", "spoken length", seconds, settings.ivr_max_seconds, "seconds",
        f"at {settings.ivr_words_per_minute} words per minute",
    )


CHANNEL = live_surface("ivr", check_ivr)
