"""The agent desk: the contact centre's live agent notes (`templates/agent/`), a built-in surface.

Each version's agent rendition (what happened, what to tell customers, the workaround and the
alternatives, what not to promise, the next update, the author's approved answers) is approved with
the statement; "sent" means the desk (`/agent`) now shows it, as the banner shows its line.
"""

import json
from collections.abc import Iterator

from ..config import Settings
from ..render.limits import LimitCheck
from .live import live_surface

NAME = "agent"
# Read on a phone between calls: the whole of one version's notes, and no more answers than fit a screen's scroll.
MOST_CHARACTERS = 8000
MOST_ANSWERS = 20


def check_agent_notes(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    answers = json.loads(fields.get("answers", "[]") or "[]")
    yield LimitCheck(NAME, "answers", len(answers), MOST_ANSWERS, "answers")
    yield LimitCheck(NAME, "length", sum(len(text) for text in fields.values()), MOST_CHARACTERS, "characters")


CHANNEL = live_surface(NAME, check_agent_notes)
