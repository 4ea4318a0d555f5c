"""X's weighted length of a text, as twitter-text's ``parse_tweet`` counts it, without its cost.

``parse_tweet`` looks for emoji by trying a regular expression of some 3,800 alternatives at every
character of the text: about 1 ms for a 130-character post, and a statement has four texts counted
(the post and three reply variants) in every language. Every emoji twitter-text knows starts with
one of about 1,300 characters (an ASCII keycap base such as ``#`` only when a non-ASCII character
follows it), so the same expression is tried only where such a character stands, with the same
left-to-right, non-overlapping scan; the URLs, the weights and the sum are twitter-text's own rules.
The result equals ``parse_tweet(text).weightedLength`` for every text
(``tests/unit/channels/test_xlength.py`` checks it on generated texts), and the same text is
counted once per process (the preview, the submit and each language share the phrases around the
author's words).
"""

import re
import unicodedata
from functools import lru_cache

from twitter_text.config import config
from twitter_text.extract_urls import extract_urls_with_indices
from twitter_text.regexp.emoji import emoji as EMOJI
from twitter_text.regexp.emoji import emoji_list

OPTIONS = config["defaults"]
_SCALE = OPTIONS["scale"]
_URL_WEIGHT = OPTIONS["transformed_url_length"] * _SCALE
_DEFAULT_WEIGHT = OPTIONS["default_weight"]
_RANGES = tuple((r["start"], r["end"], r["weight"]) for r in OPTIONS["ranges"])
_EMOJI_PARSING = OPTIONS.get("emoji_parsing_enabled", False)

_SEQUENCES = [[int(code, 16) for code in e.codepoint.split()] for e in emoji_list]
# The emoji that start with an ASCII character are keycaps ('#', '*', a digit, then U+FE0F or U+20E3):
# such a character can start one only when a non-ASCII character follows it.
assert all(len(seq) > 1 and seq[1] >= 128 for seq in _SEQUENCES if seq[0] < 128)
_STARTS = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted({seq[0] for seq in _SEQUENCES if seq[0] >= 128})) + "]"
    "|[" + "".join(re.escape(chr(c)) for c in sorted({seq[0] for seq in _SEQUENCES if seq[0] < 128})) + "]"
    "(?=[^\x00-\x7f])"
)
_LINE_ENDINGS = re.compile(r"\r\n|\r|\n")


def _emoji_at(text: str) -> dict[int, int]:
    """{start: length} of each emoji in the text: what ``emoji.finditer`` finds, trying only where one
    can start."""
    found: dict[int, int] = {}
    scanned = 0
    for start in _STARTS.finditer(text):
        at = start.start()
        if at < scanned:
            continue
        match = EMOJI.match(text, at)
        if match:
            found[at] = match.end() - at
            scanned = match.end()
    return found


def _weight(char: str) -> int:
    code = ord(char)
    for start, end, weight in _RANGES:
        if start <= code <= end:
            return weight
    return _DEFAULT_WEIGHT


@lru_cache(maxsize=8192)
def weighted_length(text: str) -> int:
    """``twitter_text.parse_tweet(text).weightedLength``: URLs count 23, CJK and emoji count 2."""
    normalized = _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", text))
    urls = {entity["indices"][0]: len(entity["url"]) for entity in extract_urls_with_indices(normalized)}
    emojis = _emoji_at(normalized) if _EMOJI_PARSING and not normalized.isascii() else {}
    total, at = 0, 0
    while at < len(normalized):
        if at in urls:
            total += _URL_WEIGHT
            at += urls[at]
        elif at in emojis:
            total += _DEFAULT_WEIGHT
            at += emojis[at]
        else:
            total += _weight(normalized[at])
            at += 1
    return int(total / _SCALE)
