"""The website banner: one line, coloured by severity, served by the public app."""

from collections.abc import Iterator

from ..config import Settings
from ..render.limits import LimitCheck
from .live import live_surface


def check_banner(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    yield LimitCheck("banner", "lines", len(fields["text"].splitlines()), 1, "lines")


CHANNEL = live_surface("banner", check_banner)
