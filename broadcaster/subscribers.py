"""Importing subscribers from a CSV file.

The file is streamed and written a batch at a time, so a list of 100,000 customers never sits
in memory at once. A bad row is reported with its line number and skipped; the good rows are
imported all the same. An import adds and updates, never removes, and never clears an opt-out:
someone who asked to hear nothing more stays out whatever a spreadsheet says.
"""

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .config import Settings
from .contacts import normalise_email, normalise_phone
from .domain.errors import InvalidInput
from .store.db import transaction
from .store.models import Subscriber

COLUMNS = ("email", "phone", "locale", "components")
BATCH_ROWS = 1000
DEFAULT_LOCALE = "en"
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
_COMPONENT_SEPARATORS = re.compile(r"[;|]")


@dataclass
class ImportReport:
    imported: int = 0  # subscribers created
    updated: int = 0  # subscribers that existed before this import and were changed by it
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, "line N: what is wrong")


@dataclass
class _Row:
    line: int
    email: str | None
    phone: str | None
    locale: str | None  # None: keep what is stored (new subscribers get the default)
    components: list[str] | None  # None: keep what is stored; []: every incident


def import_csv(settings: Settings, path: str | Path, default_region: str | None = None) -> ImportReport:
    """Create or update a subscriber per row of `path`. Columns (header required, any case):
    email, phone, locale, components ("Login;API" or "Login|API"). A row needs an email or a
    phone number; national phone numbers need `default_region` (e.g. "US"), which defaults to
    the BROADCASTER_DEFAULT_PHONE_REGION setting.

    A subscriber whose email or phone matches a row is updated: a non-empty locale and, when the
    file has the column, the components are replaced, and an email or phone the row adds is filled in.
    Rows that meet the same subscriber twice count once."""
    region = default_region or settings.default_phone_region
    report = ImportReport()
    created: set[int] = set()
    updated: set[int] = set()
    with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: spreadsheet exports start with a BOM
        rows = _rows(csv.reader(handle), str(path), region, report)
        while batch := list(islice(rows, BATCH_ROWS)):
            with transaction(settings.database_url) as s:
                _write_batch(s, batch, report, created, updated)
    report.imported, report.updated = len(created), len(updated - created)
    return report


def _rows(reader, name: str, region: str | None, report: ImportReport) -> Iterator[_Row]:
    header = _header(reader, name)
    line = reader.line_num + 1  # where the next record starts; a quoted field may span lines
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, often at the end of a file
        if len(cells) > len(header):
            report.errors.append((start, f"line {start}: {len(cells)} fields, the header names {len(header)}"))
            continue
        values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
        row, problems = _parse(start, values, region)
        if problems:
            report.errors.append((start, f"line {start}: " + "; ".join(problems)))
        else:
            yield row


def _header(reader, name: str) -> list[str]:
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        raise InvalidInput(f"{name}: the file is empty; its first line must be a header such as "
                           f"'{','.join(COLUMNS)}'") from None
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        # Refused rather than ignored: a misspelt "component" column would silently drop data.
        raise InvalidInput(f"{name}, line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
                           f"the columns are {', '.join(COLUMNS)}")
    duplicated = sorted({column for column in header if header.count(column) > 1})
    if duplicated:
        raise InvalidInput(f"{name}, line 1: column(s) {', '.join(map(repr, duplicated))} appear more than once")
    if "email" not in header and "phone" not in header:
        raise InvalidInput(f"{name}, line 1: the header needs an 'email' or a 'phone' column")
    return header


def _parse(line: int, values: dict[str, str], region: str | None) -> tuple[_Row | None, list[str]]:
    problems: list[str] = []
    email = phone = None
    if values.get("email"):
        try:
            email = normalise_email(values["email"])
        except InvalidInput as exc:
            problems.append(str(exc))
    if values.get("phone"):
        try:
            phone = normalise_phone(values["phone"], default_region=region)
        except InvalidInput as exc:
            problems.append(str(exc))
    if not values.get("email") and not values.get("phone"):
        problems.append("needs an email or a phone number")
    locale = values.get("locale") or None
    if locale is not None and (len(locale) > 20 or not _LOCALE.match(locale)):
        problems.append(f"locale: {locale!r} is not a language tag such as 'en' or 'pt-BR'")
    components = None
    if "components" in values:
        parts = (part.strip() for part in _COMPONENT_SEPARATORS.split(values["components"]))
        components = list(dict.fromkeys(part for part in parts if part))
    if problems:
        return None, problems
    return _Row(line, email, phone, locale, components), []


def _write_batch(s: Session, batch: list[_Row], report: ImportReport, created: set[int], updated: set[int]) -> None:
    emails = {row.email for row in batch if row.email}
    phones = {row.phone for row in batch if row.phone}
    by_email: dict[str, Subscriber] = {}
    by_phone: dict[str, Subscriber] = {}
    new: list[Subscriber] = []
    for subscriber in s.scalars(select(Subscriber).where(or_(Subscriber.email.in_(emails),
                                                             Subscriber.phone.in_(phones)))):
        _index(subscriber, by_email, by_phone)
    for row in batch:
        match_email, match_phone = by_email.get(row.email or ""), by_phone.get(row.phone or "")
        if match_email is not None and match_phone is not None and match_email is not match_phone:
            report.errors.append((row.line, f"line {row.line}: email {row.email} belongs to subscriber "
                                            f"{match_email.id} but phone {row.phone} to subscriber {match_phone.id}; "
                                            "put them on separate rows or fix one"))
            continue
        subscriber = match_email or match_phone
        if subscriber is None:
            subscriber = Subscriber(email=row.email, phone=row.phone, locale=row.locale or DEFAULT_LOCALE,
                                    components=row.components or [])
            s.add(subscriber)
            new.append(subscriber)
        else:
            _update(subscriber, row, by_email, by_phone)
            if subscriber.id is not None:  # None: created earlier in this batch, counted once below
                updated.add(subscriber.id)
        _index(subscriber, by_email, by_phone)
    s.flush()  # one multi-row INSERT for the batch; a flush per row is 20 times slower
    created.update(subscriber.id for subscriber in new)


def _update(subscriber: Subscriber, row: _Row, by_email: dict, by_phone: dict) -> None:
    """Fill in or change what the row gives; never touch opted_out_at."""
    if row.email and subscriber.email != row.email:
        by_email.pop(subscriber.email or "", None)
        subscriber.email = row.email
    if row.phone and subscriber.phone != row.phone:
        by_phone.pop(subscriber.phone or "", None)
        subscriber.phone = row.phone
    if row.locale:
        subscriber.locale = row.locale
    if row.components is not None:
        subscriber.components = row.components


def _index(subscriber: Subscriber, by_email: dict, by_phone: dict) -> None:
    if subscriber.email:
        by_email[subscriber.email] = subscriber
    if subscriber.phone:
        by_phone[subscriber.phone] = subscriber
