"""X's weighted length of a text, as twitter-text's ``parse_tweet`` counts it, without its cost.

``parse_tweet`` looks for emoji by trying a regular expression of some 3,800 alternatives at every
character of the text: about 1 ms for a 130-character post, and a statement has four texts counted
(the post and three reply variants) in every language. Every emoji twitter-text knows starts with
one of about 1,300 characters, all non-ASCII but the keycaps' ``#``, ``*`` and digits (followed by a
non-ASCII character), and one of several code points needs its second one next: so the expression
is tried only where an emoji can start, its one-code-point class alone where nothing longer can
follow, with the same left-to-right, non-overlapping scan. The URLs are twitter-text's own
extraction, run only on the words that can hold one (``_urls``), and the weights its ranges.
The result equals ``parse_tweet(text).weightedLength`` for every text
(``tests/unit/channels/test_xlength.py`` checks it on generated texts), and the same text is
counted once per process (the preview, the submit and each language share the phrases around the
author's words).
"""

import re
import unicodedata
from functools import lru_cache

from ._twitter_text import config, emoji_list, extract_urls_with_indices, single_codepoint_emoji_raw
from ._twitter_text import emoji as EMOJI

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


# The expression's own alternative for the emoji of one code point (a character class), and the
# characters any emoji starts with (a set: one regular expression of them all is as slow as the search).
_SINGLE = re.compile("[" + single_codepoint_emoji_raw + "]")
_FIRST = frozenset(chr(seq[0]) for seq in _SEQUENCES)
_ASCII_FIRST = frozenset(char for char in _FIRST if char.isascii())
# Where one can start, or a keycap's second code point be: the non-ASCII characters of the 64-code-point
# blocks that hold any (20 ranges). Japanese or Chinese text has almost none: its kana and ideographs
# were each a position tried, one by one, four texts a language.
_MAY_START = frozenset(char for char in _FIRST if not char.isascii()) | {chr(seq[1]) for seq in _SEQUENCES
                                                                          if seq[0] < 128}
_RANGES_NEAR: list[list[int]] = []  # [first block, last block] of neighbouring blocks
for _block in sorted({ord(char) >> 6 for char in _MAY_START}):
    if _RANGES_NEAR and _RANGES_NEAR[-1][1] == _block - 1:
        _RANGES_NEAR[-1][1] = _block
    else:
        _RANGES_NEAR.append([_block, _block])
_NEAR_AN_EMOJI = re.compile("[" + "".join(
    f"{re.escape(chr(max(first << 6, 128)))}-{re.escape(chr(((last + 1) << 6) - 1))}" for first, last in _RANGES_NEAR
) + "]")
# A sequence of several code points matches only where its second one follows: elsewhere the answer is
# the single-code-point class's, without trying the thousands of sequences first.
_SECOND = frozenset(chr(seq[1]) for seq in _SEQUENCES if len(seq) > 1)
_LINE_ENDINGS = re.compile(r"\r\n|\r|\n")
# A word (between spaces and line breaks) with a dot that something other than a dot follows: a
# domain's last dot, before its top-level domain. A sentence's full stop is not one.
_WORDS_WITH_A_DOT = re.compile(r"[^ \t\n\r]*\.[^ \t\n\r.][^ \t\n\r]*")
assert len({weight for _, _, weight in _RANGES}) == 1
_LIGHT_WEIGHT = _RANGES[0][2]
_HEAVY = re.compile("[^" + "".join(f"{re.escape(chr(start))}-{re.escape(chr(end))}" for start, end, _ in _RANGES)
                    + "]")


def _emoji_at(text: str) -> dict[int, int]:
    """{start: length} of each emoji in the text: what ``emoji.finditer`` finds, trying only where one
    can start (at a non-ASCII character near one that can, or just before one: no ASCII character is
    an emoji by itself, a keycap's is one only before its second code point)."""
    found: dict[int, int] = {}
    scanned = 0
    for non_ascii in _NEAR_AN_EMOJI.finditer(text):
        i = non_ascii.start()
        for at in (i - 1, i) if i and text[i - 1] in _ASCII_FIRST else (i,):
            if at < scanned or text[at] not in _FIRST:
                continue
            if at + 1 < len(text) and text[at + 1] in _SECOND:
                match = EMOJI.match(text, at)
                length = match.end() - at if match else 0
            else:
                length = 1 if _SINGLE.match(text, at) else 0
            if length:
                found[at] = length
                scanned = at + length
    return found


def _plain(text: str) -> int:
    """The weight of characters that are neither a URL nor an emoji."""
    return _LIGHT_WEIGHT * len(text) + (_DEFAULT_WEIGHT - _LIGHT_WEIGHT) * len(_HEAVY.findall(text))


def _urls(text: str) -> dict[int, int]:
    """{start: length} of each URL twitter-text's extraction finds, searched only around the words with
    a dot. Its expression, tried at every character, was most of a text's cost (about 0.1 ms). A URL
    has a dot (its domain's last one) and no space or line break (none of its characters' classes
    has one), and what it matches at a position depends on one character before the URL (the
    expression's own "preceding character") and one after (the top-level domain's look-ahead): so
    each word with a dot, with the character on either side, finds what the whole text finds there."""
    found = {}
    for word in _WORDS_WITH_A_DOT.finditer(text):
        start = max(word.start() - 1, 0)
        for at, length in _urls_around(text[start:word.end() + 1]):
            found[start + at] = length
    return found


@lru_cache(maxsize=4096)
def _urls_around(word: str) -> tuple[tuple[int, int], ...]:
    """((start, length), ...) of the URLs in one word with the characters around it, found once: the
    same few words (the status page's address, between the same characters) are in every text."""
    return tuple((entity["indices"][0], len(entity["url"])) for entity in extract_urls_with_indices(word))


@lru_cache(maxsize=8192)
def weighted_length(text: str) -> int:
    """``twitter_text.parse_tweet(text).weightedLength``: URLs count 23, CJK and emoji count 2."""
    normalized = _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", text))
    urls = _urls(normalized)
    emojis = _emoji_at(normalized) if _EMOJI_PARSING and not normalized.isascii() else {}
    total, at = 0, 0
    for start in sorted(urls.keys() | emojis.keys()):
        if start < at:  # inside a URL or an emoji counted already
            continue
        total += _plain(normalized[at:start])
        if start in urls:  # a URL first, as twitter-text does
            total += _URL_WEIGHT
            at = start + urls[start]
        else:
            total += _DEFAULT_WEIGHT
            at = start + emojis[start]
    total += _plain(normalized[at:])
    return int(total / _SCALE)
