"""CSV for people who open it in a spreadsheet: every CSV export (the send log from the API, the
dashboard's CSV link and `broadcaster log --csv`) is written by `SafeDictWriter`.

A send log holds what anyone on the internet typed (the email address of a sign-up from the public
form is a delivery's target), and a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@`
as a formula (`=cmd|'/Ccalc'!A0@example.com` launches a program in some). As OWASP advises for CSV
injection, such a cell, and one starting with a tab or a carriage return, is written with a `'` in
front: the spreadsheet shows it as text. The raw value is in the JSON (`GET /api/v1/send-log`,
`broadcaster log --json`)."""

import csv
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """`value` as a spreadsheet shows it as text: a `'` in front when its text starts a formula."""
    if value is None or isinstance(value, bool | int | float):
        return value  # a number is a number (an id, a version): none is negative here, and -1 is no formula
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeDictWriter(csv.DictWriter):
    """`csv.DictWriter` whose every cell is `neutralised`."""

    def writerow(self, rowdict: Mapping[str, Any]):
        return super().writerow({key: neutralised(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]):
        return super().writerows({key: neutralised(value) for key, value in row.items()} for row in rowdicts)
