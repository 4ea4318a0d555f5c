"""Importing subscribers from a CSV file.

A file is imported whole or not at all. Its bytes are checked first (UTF-8, or UTF-16 with a
byte order mark), so a spreadsheet saved as Latin-1 is refused with the line of its first bad
byte before anything is written; then the rows are streamed and written a batch at a time,
all in one transaction, so a list of 100,000 customers never sits in memory at once and a
file that cannot be read to the end leaves nothing behind. A bad row is reported with its
line number and skipped; the good rows are imported all the same. Two rows about one
subscriber (sharing an email or a phone) that disagree are a conflict, reported by line: the
later row is rejected rather than silently overwriting the earlier one. An import adds and
updates, never removes, and never clears an opt-out: someone who asked to hear nothing more
stays out whatever a spreadsheet says.
"""

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.approval import Actor
from ..domain.contacts import normalise_email, normalise_phone
from ..domain.errors import InvalidInput
from ..domain.locales import normalise_tag
from ..store.models import Subscriber
from ..usecase import acting, log_action

COLUMNS = ("email", "phone", "locale", "components")
BATCH_ROWS = 1000
_COMPONENT_SEPARATORS = re.compile(r"[;|]")
_SAVE_AS_UTF8 = "save it as UTF-8 (in Excel: Save As > 'CSV UTF-8') and import it again; nothing was imported"
_CHECK_CHUNK = 1 << 20


@dataclass
class ImportReport:
    """What became of each row of the file: imported + updated + unchanged + rejected = rows."""

    imported: int = 0  # rows that created a subscriber
    updated: int = 0  # rows that changed a subscriber (existing before, or added by an earlier row)
    unchanged: int = 0  # rows that matched a subscriber already just as the row says
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, "line N: what is wrong")

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def rows(self) -> int:
        return self.imported + self.updated + self.unchanged + self.rejected


@dataclass(slots=True)
class _Row:
    line: int
    email: str | None
    phone: str | None
    locale: str | None  # normalised ('es-MX'); None: keep what is stored (new subscribers get the default)
    components: list[str] | None  # None: keep what is stored; []: every incident


def import_csv(settings: Settings, actor: Actor, path: str | Path, default_region: str | None = None) -> ImportReport:
    """Create or update a subscriber per row of `path`. Columns (header required, any case):
    email, phone, locale, components ("Login;API" or "Login|API"). A row needs an email or a
    phone number; national phone numbers need `default_region` (e.g. "US"), which defaults to
    the BROADCASTER_DEFAULT_PHONE_REGION setting.

    A subscriber whose email or phone matches a row is updated: a non-empty locale and, when the
    file has the column, the components are replaced, and an email or phone the row adds is filled in.
    Raises InvalidInput, with nothing written, if the file cannot be read to the end. For admins
    (`manage subscribers`); the import is audited with its counts."""
    region = default_region or settings.default_phone_region
    name = str(path)
    encoding = _readable_encoding(path, name)
    report = ImportReport()
    try:
        with open(path, newline="", encoding=encoding) as handle, acting(settings, actor, "manage subscribers",
                                                                           "subscribers") as s:
            rows = _agreeing(_rows(csv.reader(handle), name, region, report), report)
            while batch := list(islice(rows, BATCH_ROWS)):
                _write_batch(s, batch, report, settings.default_locale)
            log_action(s, actor, "import subscribers", "subscribers",
                       {"file": Path(name).name[:200], "imported": report.imported, "updated": report.updated,
                        "unchanged": report.unchanged, "rejected": report.rejected})
    except UnicodeDecodeError:  # the file was changed after it was checked
        raise InvalidInput(f"{name}: the file changed while it was imported and is no longer {_label(encoding)}; "
                           f"{_SAVE_AS_UTF8}") from None
    except IntegrityError:
        raise InvalidInput(f"{name}: subscribers were changed by someone else during the import; nothing was "
                           "imported: run the import again") from None
    return report


def _readable_encoding(path: str | Path, name: str) -> str:
    """The file's encoding, after reading every byte of it: UTF-8 (with or without a BOM), or
    UTF-16/UTF-32 when a byte order mark says so. Anything else is refused with the line of the
    first byte that is not UTF-8, before anything is written."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            encoding = _encoding_by_bom(head)
            handle.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
            line = 1
            while chunk := handle.read(_CHECK_CHUNK):
                if encoding == "utf-8-sig" and b"\x00" in chunk:
                    raise InvalidInput(f"{name}: the file has NUL bytes, so it is not UTF-8 text (UTF-16 without "
                                       f"a byte order mark, or not a CSV at all); {_SAVE_AS_UTF8}")
                try:
                    line += decoder.decode(chunk).count("\n")
                except UnicodeDecodeError as exc:
                    before = exc.object[:exc.start].decode(encoding, errors="replace").count("\n")
                    bad = f"byte 0x{exc.object[exc.start:exc.start + 1].hex().upper()}"
                    if encoding == "utf-8-sig":
                        bad += "; Latin-1 or Windows-1252, perhaps"
                    raise InvalidInput(f"{name}, line {line + before}: the file is not {_label(encoding)} ({bad}): "
                                       f"{_SAVE_AS_UTF8}") from None
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise InvalidInput(f"{name}, line {line}: the file ends in the middle of a character, so it is "
                                   f"not {_label(encoding)} or was cut short; {_SAVE_AS_UTF8}") from None
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    return encoding


def _encoding_by_bom(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE starts both
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"  # -sig: spreadsheet exports often start with a UTF-8 BOM


def _label(encoding: str) -> str:
    return {"utf-8-sig": "UTF-8"}.get(encoding, encoding.upper())


def _rows(reader, name: str, region: str | None, report: ImportReport) -> Iterator[_Row]:
    header = _header(reader, name)
    line = reader.line_num + 1  # where the next record starts; a quoted field may span lines
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"{name}, line {line}: cannot read the CSV ({exc}); fix that line and import "
                               "again; nothing was imported") from None
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


def _agreeing(rows: Iterator[_Row], report: ImportReport) -> Iterator[_Row]:
    """Rows that agree with every earlier row sharing their email or phone. A row that gives a
    different value for what an earlier row about the same subscriber gave is rejected, naming
    both lines: which of the two is right is the author's call, not the order of the file."""
    # ("email", address) / ("phone", number) → {field: (value, line that gave it)} over the rows accepted
    known: dict[tuple[str, str], dict[str, tuple[Any, int]]] = {}
    for row in rows:
        keys = [key for key in (("email", row.email), ("phone", row.phone)) if key[1]]
        conflict = next(filter(None, (_disagreement(key, known.get(key, {}), row) for key in keys)), None)
        if conflict:
            report.errors.append((row.line, conflict))
            continue
        for key in keys:
            fields = known.setdefault(key, {})
            for name in _FIELDS:
                if getattr(row, name) is not None:
                    fields.setdefault(name, (getattr(row, name), row.line))
        yield row


_FIELDS = ("email", "phone", "locale", "components")


def _disagreement(key: tuple[str, str], known: dict[str, tuple[Any, int]], row: _Row) -> str | None:
    """'line 9: phone +1... is also on line 3, with email a@... there and b@... here; ...'."""
    for name in _FIELDS:
        here = getattr(row, name)
        if name in known and here is not None and known[name][0] != here:
            there, line = known[name]
            show = (lambda v: ";".join(v) or "none") if name == "components" else str
            return (f"line {row.line}: {key[0]} {key[1]} is also on line {line}, with {name} {show(there)} there "
                    f"and {show(here)} here; give each subscriber one row, or rows that agree")
    return None


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
    locale = None
    if values.get("locale"):
        try:  # one spelling per language ('ES', 'es_mx' → 'es', 'es-MX'): a fan-out picks the words by it
            locale = normalise_tag(values["locale"])
        except InvalidInput as exc:
            problems.append(str(exc))
    components = None
    if "components" in values:
        parts = (part.strip() for part in _COMPONENT_SEPARATORS.split(values["components"]))
        components = list(dict.fromkeys(part for part in parts if part))
    if problems:
        return None, problems
    return _Row(line, email, phone, locale, components), []


def _write_batch(s: Session, batch: list[_Row], report: ImportReport, default_locale: str) -> None:
    emails = {row.email for row in batch if row.email}
    phones = {row.phone for row in batch if row.phone}
    by_email: dict[str, Subscriber] = {}
    by_phone: dict[str, Subscriber] = {}
    added_on: dict[int, int] = {}  # id() of a subscriber this batch adds → its line (it has no id until flushed)
    for subscriber in s.scalars(select(Subscriber).where(or_(Subscriber.email.in_(emails),
                                                             Subscriber.phone.in_(phones)))):
        _index(subscriber, by_email, by_phone)
    for row in batch:
        match_email, match_phone = by_email.get(row.email or ""), by_phone.get(row.phone or "")
        if match_email is not None and match_phone is not None and match_email is not match_phone:
            def who(subscriber: Subscriber) -> str:
                line = added_on.get(id(subscriber))
                return f"the subscriber added on line {line}" if line else f"subscriber {subscriber.id}"
            report.errors.append((row.line, f"line {row.line}: email {row.email} belongs to {who(match_email)} "
                                            f"but phone {row.phone} to {who(match_phone)}; "
                                            "put them on separate rows or fix one"))
            continue
        subscriber = match_email or match_phone
        if subscriber is None:
            subscriber = Subscriber(email=row.email, phone=row.phone, locale=row.locale or default_locale,
                                    components=row.components or [])
            s.add(subscriber)
            added_on[id(subscriber)] = row.line
            report.imported += 1
        elif _update(subscriber, row, by_email, by_phone):
            report.updated += 1
        else:
            report.unchanged += 1
        _index(subscriber, by_email, by_phone)
    s.flush()  # one multi-row INSERT for the batch; a flush per row is 20 times slower


def _update(subscriber: Subscriber, row: _Row, by_email: dict, by_phone: dict) -> bool:
    """Fill in or change what the row gives; never touch opted_out_at. True if anything changed."""
    changed = False
    if row.email and subscriber.email != row.email:
        by_email.pop(subscriber.email or "", None)
        subscriber.email, changed = row.email, True
    if row.phone and subscriber.phone != row.phone:
        by_phone.pop(subscriber.phone or "", None)
        subscriber.phone, changed = row.phone, True
    if row.locale and subscriber.locale != row.locale:
        subscriber.locale, changed = row.locale, True
    if row.components is not None and list(subscriber.components or []) != row.components:
        subscriber.components, changed = row.components, True
    return changed


def _index(subscriber: Subscriber, by_email: dict, by_phone: dict) -> None:
    if subscriber.email:
        by_email[subscriber.email] = subscriber
    if subscriber.phone:
        by_phone[subscriber.phone] = subscriber
