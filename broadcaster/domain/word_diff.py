"""What changed between two texts, word by word: what an approver reads to see what is new since the
live version. Pure: the dashboard draws the pieces (`<del>`, `<ins>`), a test reads them.

A text is cut into words, the spaces between them and punctuation, so "30 minutes" → "an hour"
reads as two words out and two in, not as characters; a diff of two equal texts is one `same` piece.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

_TOKENS = re.compile(r"\s+|\w+(?:[:.,'’]\w+)*|[^\w\s]", re.UNICODE)
MOST_TOKENS = 20_000  # a text longer than this (a huge webhook body) is compared whole, not word by word

Op = Literal["same", "in", "out"]


@dataclass(frozen=True)
class Piece:
    op: Op
    text: str


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text or "")


def word_diff(before: str, after: str) -> list[Piece]:
    """The pieces that turn `before` into `after`: kept, taken out, put in (in reading order)."""
    old, new = tokens(before), tokens(after)
    if len(old) > MOST_TOKENS or len(new) > MOST_TOKENS:
        return [Piece("same", after)] if before == after else [Piece("out", before), Piece("in", after)]
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            _add(pieces, "same", "".join(new[j1:j2]))
            continue
        if tag in ("delete", "replace"):
            _add(pieces, "out", "".join(old[i1:i2]))
        if tag in ("insert", "replace"):
            _add(pieces, "in", "".join(new[j1:j2]))
    return pieces


def _add(pieces: list[Piece], op: Op, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1].op == op:
        pieces[-1] = Piece(op, pieces[-1].text + text)
    else:
        pieces.append(Piece(op, text))


def counts(pieces: list[Piece]) -> tuple[int, int]:
    """(words put in, words taken out): what a summary says ("+12 −3 words")."""
    def words(op: Op) -> int:
        return sum(len(re.findall(r"\w+", p.text)) for p in pieces if p.op == op)
    return words("in"), words("out")


def changed(pieces: list[Piece]) -> bool:
    return any(p.op != "same" for p in pieces)
