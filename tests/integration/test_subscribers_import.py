"""Importing subscribers from CSV, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select, update

from broadcaster.audience.csv_import import import_csv
from broadcaster.domain.errors import InvalidInput
from broadcaster.store.db import transaction
from broadcaster.store.models import Subscriber, utcnow
from tests.conftest import actor, make_settings


def admin(settings):
    """The admin `root` (added first if there is no user yet): imports are for admins."""
    from broadcaster.people import users

    if not users.has_users(settings):
        users.add_user(settings, None, "root", ["admin"])
    return actor(settings, "root")


def write(tmp_path, text: str, name: str = "subscribers.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def everyone(settings) -> dict[str, tuple]:
    """email or phone → (email, phone, locale, components, opted out?)"""
    with transaction(settings.database_url) as s:
        return {(sub.email or sub.phone): (sub.email, sub.phone, sub.locale, sub.components,
                                           sub.opted_out_at is not None) for sub in s.scalars(select(Subscriber))}


def test_bad_rows_are_reported_by_line_and_the_good_ones_imported(settings, tmp_path):
    path = write(tmp_path, "Email,Phone,Locale,Components\n"
                           "ann@example.com,+1 415 555 0100,en,Login;API\n"
                           "not-an-email,,,\n"
                           ",+1 555,,\n"
                           ",,fr,\n"
                           '"bob@example.com",,pt-BR,"Login | Billing"\n'
                           "carl@example.com,,english please,\n"
                           ",+442079460958,,\n")

    report = import_csv(settings, admin(settings), path)

    assert (report.imported, report.updated) == (3, 0)
    assert [line for line, _ in report.errors] == [3, 4, 5, 7]
    assert report.errors[0][1].startswith("line 3: email: 'not-an-email' is not a valid email address")
    assert report.errors[1][1] == "line 4: phone: '+1 555' is not a valid phone number for its country"
    assert report.errors[2][1] == "line 5: needs an email or a phone number"
    assert report.errors[3][1] == "line 7: locale: 'english please' is not a language tag like 'es' or 'pt-BR'"
    assert everyone(settings) == {
        "ann@example.com": ("ann@example.com", "+14155550100", "en", ["Login", "API"], False),
        "bob@example.com": ("bob@example.com", None, "pt-BR", ["Login", "Billing"], False),
        "+442079460958": (None, "+442079460958", "en", [], False),
    }


def test_locales_are_stored_in_one_spelling_and_unknown_languages_refused(settings, tmp_path):
    """A fan-out picks each subscriber's words by their locale: 'ES' and 'es_mx' are stored as 'es' and
    'es-MX'; a tag CLDR does not know is a bad row; a new subscriber without one gets the installation's
    default language."""
    spanish = make_settings(settings.database_url, default_locale="es")
    report = import_csv(spanish, admin(spanish), write(tmp_path, "email,locale\n"
                                                             "ann@example.com,ES\n"
                                                             "bob@example.com,es_mx\n"
                                                             "cy@example.com,qq\n"
                                                             "dee@example.com,\n"))
    assert report.imported == 3 and report.errors == [(4, "line 4: locale: 'qq' is not a language CLDR knows")]
    assert {address: row[2] for address, row in everyone(settings).items()} == {
        "ann@example.com": "es", "bob@example.com": "es-MX", "dee@example.com": "es"}


def test_reimport_updates_rather_than_duplicates(settings, tmp_path):
    import_csv(settings, admin(settings), write(tmp_path, "email,phone,locale,components\n"
                                         "ann@example.com,,en,Login\n"
                                         ",+14155550100,en,\n"))

    report = import_csv(settings, admin(settings), write(tmp_path, "email,phone,locale,components\n"
                                                  "ann@example.com,+14155550199,de,API\n"  # adds a phone
                                                  "bob@example.com,+1 (415) 555-0100,fr,Billing\n"  # adds an email
                                                  "cy@example.com,,,\n", "again.csv"))

    assert (report.imported, report.updated, report.errors) == (1, 2, [])
    assert everyone(settings) == {
        "ann@example.com": ("ann@example.com", "+14155550199", "de", ["API"], False),
        "bob@example.com": ("bob@example.com", "+14155550100", "fr", ["Billing"], False),
        "cy@example.com": ("cy@example.com", None, "en", [], False),
    }


def test_import_never_brings_back_someone_who_opted_out(settings, tmp_path):
    import_csv(settings, admin(settings), write(tmp_path, "email\nann@example.com\n"))
    with transaction(settings.database_url) as s:
        s.execute(update(Subscriber).values(opted_out_at=utcnow()))

    report = import_csv(settings, admin(settings), write(tmp_path, "email,locale\nann@example.com,fr\n", "again.csv"))

    assert report.updated == 1
    assert everyone(settings)["ann@example.com"] == ("ann@example.com", None, "fr", [], True)


def test_a_file_without_a_column_keeps_what_is_stored(settings, tmp_path):
    import_csv(settings, admin(settings), write(tmp_path, "email,locale,components\nann@example.com,de,Login\n"))

    import_csv(settings, admin(settings), write(tmp_path, "email,phone\nann@example.com,+14155550100\n", "phones.csv"))

    assert everyone(settings)["ann@example.com"] == ("ann@example.com", "+14155550100", "de", ["Login"], False)


def test_duplicate_rows_in_one_file_count_once(settings, tmp_path):
    report = import_csv(settings, admin(settings), write(tmp_path, "email,phone\n"
                                                  "ann@example.com,+14155550100\n"
                                                  "ann@example.com,+14155550100\n"
                                                  ",+1 415 555 0100\n"))

    assert (report.imported, report.updated, report.unchanged, report.errors) == (1, 0, 2, [])
    assert len(everyone(settings)) == 1


def test_a_row_joining_two_subscribers_is_an_error(settings, tmp_path):
    import_csv(settings, admin(settings), write(tmp_path, "email,phone\nann@example.com,\n,+14155550100\n"))

    report = import_csv(settings, admin(settings),
                        write(tmp_path, "email,phone\nann@example.com,+14155550100\n", "join.csv"))

    assert report.updated == 0
    assert report.errors == [(2, "line 2: email ann@example.com belongs to subscriber 1 but phone +14155550100 to "
                                 "subscriber 2; put them on separate rows or fix one")]


def test_national_numbers_need_a_region(settings, tmp_path):
    path = write(tmp_path, "phone\n(415) 555-0100\n")

    assert [line for line, _ in import_csv(settings, admin(settings), path).errors] == [2]
    assert import_csv(settings, admin(settings), path, default_region="US").imported == 1
    assert "+14155550100" in everyone(settings)


def test_line_numbers_count_physical_lines_of_quoted_fields(settings, tmp_path):
    path = write(tmp_path, 'email,components\r\n"ann@example.com","Login;\r\nAPI"\r\n\r\nbad,\r\n')

    report = import_csv(settings, admin(settings), path)

    assert report.imported == 1
    assert [line for line, _ in report.errors] == [5]


@pytest.mark.parametrize("text, says", [
    ("", "the file is empty"),
    ("email,name\n", "line 1: unknown column(s) 'name'"),
    ("locale,components\n", "line 1: the header needs an 'email' or a 'phone' column"),
    ("email,EMAIL\n", "line 1: column(s) 'email' appear more than once"),
])
def test_a_bad_header_is_refused_with_its_reason(settings, tmp_path, text, says):
    with pytest.raises(InvalidInput, match=f"subscribers.csv.*{says.replace('(', '.').replace(')', '.')}"):
        import_csv(settings, admin(settings), write(tmp_path, text))


def test_a_file_longer_than_one_batch_is_imported_whole_and_counts_repeats_once(settings, tmp_path):
    rows = "".join(f"user{n}@example.com,+1415555{n:04d}\n" for n in range(2500))
    path = write(tmp_path, "email,phone\n" + rows + "user0@example.com,+14155550000\n")  # a repeat, batches later

    report = import_csv(settings, admin(settings), path)

    assert (report.imported, report.updated, report.unchanged, report.errors) == (2500, 0, 1, [])
    with transaction(settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 2500


def count(settings) -> int:
    with transaction(settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(Subscriber))


def many_rows(n: int) -> str:
    return "".join(f"user{i}@example.com,+1415555{i % 10000:04d}\n" for i in range(n))


def test_a_latin1_byte_deep_in_the_file_is_one_line_naming_it_and_nothing_is_imported(settings, tmp_path):
    path = tmp_path / "latin1.csv"
    rows = "".join(f"user{i}@example.com\n" for i in range(1, 20000)) + "zoë@example.com\n"
    path.write_bytes(("email\n" + rows + "last@example.com\n").encode("latin-1"))

    with pytest.raises(InvalidInput) as excinfo:
        import_csv(settings, admin(settings), path)

    assert str(excinfo.value) == (
        f"{path}, line 20001: the file is not UTF-8 (byte 0xEB; Latin-1 or Windows-1252, perhaps): "
        "save it as UTF-8 (in Excel: Save As > 'CSV UTF-8') and import it again; nothing was imported")
    assert count(settings) == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_with_a_byte_order_mark_is_read(settings, tmp_path, encoding):
    path = tmp_path / "excel.csv"
    bom = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}.get(encoding, "")  # "utf-16" writes its own
    path.write_bytes((bom + "email,components\nzoë@example.com,Login;Überweisung\n").encode(encoding))

    report = import_csv(settings, admin(settings), path)

    assert (report.imported, report.errors) == (1, [])
    assert everyone(settings) == {"zoë@example.com": ("zoë@example.com", None, "en", ["Login", "Überweisung"], False)}


def test_a_utf8_file_with_a_byte_order_mark_is_read(settings, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffemail\nann@example.com\n".encode())

    assert import_csv(settings, admin(settings), path).imported == 1


def test_utf16_without_a_byte_order_mark_is_refused_as_not_utf8(settings, tmp_path):
    path = tmp_path / "nobom.csv"
    path.write_bytes("email\nann@example.com\n".encode("utf-16-le"))

    with pytest.raises(InvalidInput, match=r"nobom.csv: the file has NUL bytes, so it is not UTF-8 text .*save it "
                                           r"as UTF-8"):
        import_csv(settings, admin(settings), path)
    assert count(settings) == 0


def test_a_file_that_breaks_after_the_first_batch_leaves_nothing_behind(settings, tmp_path):
    # Row 1,500 holds a field longer than the csv module reads: the first 1,000 rows were already
    # written when it is reached; they must not stay.
    path = write(tmp_path, "email,phone\n" + many_rows(1500) + '"' + "x" * 200_000 + '",\n' + many_rows(10))

    with pytest.raises(InvalidInput, match=r"subscribers.csv, line 1502: cannot read the CSV .*nothing was imported"):
        import_csv(settings, admin(settings), path)

    assert count(settings) == 0


def test_a_missing_file_is_one_line_not_a_traceback(settings, tmp_path):
    with pytest.raises(InvalidInput, match=r"nowhere.csv: cannot read the file: No such file or directory"):
        import_csv(settings, admin(settings), tmp_path / "nowhere.csv")


def test_two_rows_sharing_a_phone_with_different_emails_are_a_conflict_by_line(settings, tmp_path):
    report = import_csv(settings, admin(settings), write(tmp_path, "email,phone\n"
                                                  "ann@example.com,+14155550100\n"
                                                  "bob@example.com,+1 415 555 0100\n"))

    assert report.errors == [(3, "line 3: phone +14155550100 is also on line 2, with email ann@example.com there "
                                 "and bob@example.com here; give each subscriber one row, or rows that agree")]
    assert everyone(settings) == {"ann@example.com": ("ann@example.com", "+14155550100", "en", [], False)}


def test_two_rows_sharing_an_email_with_different_locales_or_components_are_a_conflict(settings, tmp_path):
    report = import_csv(settings, admin(settings), write(tmp_path, "email,locale,components\n"
                                                  "ann@example.com,de,Login\n"
                                                  "ann@example.com,fr,Login\n"
                                                  "ann@example.com,,API\n"
                                                  "ann@example.com,,Login\n"))  # agrees: no locale given

    assert [message for _, message in report.errors] == [
        "line 3: email ann@example.com is also on line 2, with locale de there and fr here; "
        "give each subscriber one row, or rows that agree",
        "line 4: email ann@example.com is also on line 2, with components Login there and API here; "
        "give each subscriber one row, or rows that agree",
    ]
    assert (report.imported, report.unchanged) == (1, 1)
    assert everyone(settings)["ann@example.com"] == ("ann@example.com", None, "de", ["Login"], False)


def test_a_row_joining_two_subscribers_added_by_the_same_file_names_their_lines(settings, tmp_path):
    report = import_csv(settings, admin(settings), write(tmp_path, "email,phone\nann@example.com,\n,+14155550100\n"
                                                  "ann@example.com,+14155550100\n"))

    assert report.errors == [(4, "line 4: email ann@example.com belongs to the subscriber added on line 2 but "
                                 "phone +14155550100 to the subscriber added on line 3; put them on separate rows "
                                 "or fix one")]


def test_counts_add_up_to_the_rows_of_the_file(settings, tmp_path):
    import_csv(settings, admin(settings),
               write(tmp_path, "email,locale\nann@example.com,en\nbob@example.com,en\n", "before.csv"))
    path = write(tmp_path, "email,locale\n"
                           "ann@example.com,en\n"  # unchanged
                           "bob@example.com,fr\n"  # updated
                           "cy@example.com,\n"  # imported
                           "cy@example.com,de\n"  # updates what the row before added
                           "not-an-email,\n"  # rejected
                           "cy@example.com,es\n"  # conflicts with line 5: rejected
                           "\n")  # blank: not a row

    report = import_csv(settings, admin(settings), path)

    assert (report.imported, report.updated, report.unchanged, report.rejected) == (1, 2, 1, 2)
    assert report.rows == 6
    assert report.errors[1] == (7, "line 7: email cy@example.com is also on line 5, with locale de there and es "
                                   "here; give each subscriber one row, or rows that agree")
    assert everyone(settings)["cy@example.com"][2] == "de"


def test_reimporting_an_unchanged_file_reports_unchanged_not_updated(settings, tmp_path):
    path = write(tmp_path, "email,phone,locale,components\n"
                           "ann@example.com,+14155550100,de,Login;API\n"
                           "bob@example.com,,,\n"
                           ",+442079460958,fr,\n")
    assert import_csv(settings, admin(settings), path).imported == 3

    again = import_csv(settings, admin(settings), path)

    assert (again.imported, again.updated, again.unchanged, again.errors) == (0, 0, 3, [])
