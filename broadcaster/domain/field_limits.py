"""How long each text field may be and which characters it may hold: declared once, used by the API's
schemas (so the OpenAPI document states them), the CLI and the dashboard's forms (`check_text`).

Two character rules. A *line* (a headline, a title, a name, an address: anything that can reach an
email subject, an HTTP header or a log line) holds no control character at all: no CR, LF, NUL, tab
or DEL. A *text* (a body, a reason, a comment) may break lines (LF, CR, tab) and holds no other
control character (no NUL above all: PostgreSQL stores none in text).
"""

from typing import Annotated

from pydantic import AfterValidator, Field

from .errors import InvalidInput
from .incident import TITLE_MAX_CHARS
from .notices import RESOLUTION_MAX_CHARS

# The character rules, as patterns the OpenAPI document states and pydantic enforces; a required
# field also holds something other than spaces (`least` >= 1).
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"  # C0, DEL, C1 (NEL among them), the Unicode line breaks
_TEXT_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"  # the same but tab, LF and CR
LINE_PATTERN = f"^[^{_CONTROL}]*$"
TEXT_PATTERN = f"^[^{_TEXT_CONTROL}]*$"
FILLED_LINE_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
FILLED_TEXT_PATTERN = f"^[^{_TEXT_CONTROL}]*[^\\s{_CONTROL}][^{_TEXT_CONTROL}]*$"

# One name per field kind, its most characters.
TITLE = TITLE_MAX_CHARS  # an incident's title (what the incidents table keeps)
HEADLINE = 500
BODY = 5000
WORKAROUND = 2000
RESOLUTION = RESOLUTION_MAX_CHARS
REASON = 5000  # a rejection's reason, an approval's comment
NAME = 100  # a user's name, a component's name
EMAIL = 254  # the longest address that can be sent to: RFC 5321 caps a path at 256 with its <>; email-validator, too
PHONE = 40
URL = 2000
LOCALE = 35  # the longest BCP 47 tag worth keeping
WORD = 40  # an enum's value as typed: a status, an impact, a role, a channel, a state
HASH = 64  # a content hash (a prefix of at least 8 is accepted)
NEXT_UPDATE = 40  # "30m", "2026-11-23T14:30"
QUERY = 512  # a search
SOCIAL_TEXT = 1000  # a free-text reply before X's own limit is checked
PASSWORD = 500
SECRET = 200  # a PIN, a code, a link's token as typed
MOST_ITEMS = 100  # components, roles, users in one list

# The body the web app reads at most, and how deep its JSON may nest (config may lower or raise it).
BODY_BYTES = 1_000_000
JSON_DEPTH = 20


def Line(most: int, least: int = 0, **extra) -> type[str]:  # noqa: N802 - a type, used as one
    """A one-line text field of at most `most` characters, for a pydantic model: the schema states the
    pattern, the check says which character broke it."""
    pattern = FILLED_LINE_PATTERN if least else LINE_PATTERN
    return Annotated[str, Field(min_length=least, max_length=most, json_schema_extra={"pattern": pattern},
                                **extra), AfterValidator(_one_line if not least else _filled_line)]


def Text(most: int, least: int = 0, **extra) -> type[str]:  # noqa: N802
    """A text field that may break lines, of at most `most` characters."""
    pattern = FILLED_TEXT_PATTERN if least else TEXT_PATTERN
    return Annotated[str, Field(min_length=least, max_length=most, json_schema_extra={"pattern": pattern},
                                **extra), AfterValidator(_text if not least else _filled_text)]


CONTROL_CHARACTERS = {chr(c) for c in (*range(0x20), *range(0x7f, 0xa0), 0x2028, 0x2029)}
_TEXT_BAD = CONTROL_CHARACTERS - {"\t", "\n", "\r"}
NAMES = {"\x00": "NUL", "\r": "CR", "\n": "LF", "\t": "tab", "\x7f": "DEL", "\x85": "NEL"}


def check_text(field: str, value: str, most: int, *, multiline: bool = False) -> str:
    """The value if it fits the field; else InvalidInput naming the field and the rule broken (the
    CLI's and the dashboard's check, saying what the API's schema says)."""
    if len(value) > most:
        raise InvalidInput(f"{field}: at most {most} characters, got {len(value)}")
    bad = next((c for c in value if c in (_TEXT_BAD if multiline else CONTROL_CHARACTERS)), None)
    if bad is not None:
        name = NAMES.get(bad, f"U+{ord(bad):04X}")
        rule = "no control character but line breaks and tabs" if multiline else "one line, no control character"
        raise InvalidInput(f"{field}: contains a {name} character; {rule}")
    return value


def _first_bad(value: str, bad: set[str]) -> str | None:
    return next((c for c in value if c in bad), None)


def _one_line(value: str) -> str:
    if (bad := _first_bad(value, CONTROL_CHARACTERS)) is not None:
        raise ValueError(f"contains a {NAMES.get(bad, f'U+{ord(bad):04X}')} character; one line, no control character")
    return value


def _text(value: str) -> str:
    if (bad := _first_bad(value, _TEXT_BAD)) is not None:
        raise ValueError(f"contains a {NAMES.get(bad, f'U+{ord(bad):04X}')} character; no control character "
                         "but line breaks and tabs")
    return value


def _filled_line(value: str) -> str:
    if not value.strip():
        raise ValueError("must say something (not only spaces)")
    return _one_line(value)


def _filled_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must say something (not only spaces)")
    return _text(value)
