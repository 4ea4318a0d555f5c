"""Importing subscribers from CSV, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select, update

from broadcaster.domain.errors import InvalidInput
from broadcaster.store.db import transaction
from broadcaster.store.models import Subscriber, utcnow
from broadcaster.subscribers import import_csv


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

    report = import_csv(settings, path)

    assert (report.imported, report.updated) == (3, 0)
    assert [line for line, _ in report.errors] == [3, 4, 5, 7]
    assert report.errors[0][1].startswith("line 3: email: 'not-an-email' is not a valid email address")
    assert report.errors[1][1] == "line 4: phone: '+1 555' is not a valid phone number for its country"
    assert report.errors[2][1] == "line 5: needs an email or a phone number"
    assert report.errors[3][1] == "line 7: locale: 'english please' is not a language tag such as 'en' or 'pt-BR'"
    assert everyone(settings) == {
        "ann@example.com": ("ann@example.com", "+14155550100", "en", ["Login", "API"], False),
        "bob@example.com": ("bob@example.com", None, "pt-BR", ["Login", "Billing"], False),
        "+442079460958": (None, "+442079460958", "en", [], False),
    }


def test_reimport_updates_rather_than_duplicates(settings, tmp_path):
    import_csv(settings, write(tmp_path, "email,phone,locale,components\n"
                                         "ann@example.com,,en,Login\n"
                                         ",+14155550100,en,\n"))

    report = import_csv(settings, write(tmp_path, "email,phone,locale,components\n"
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
    import_csv(settings, write(tmp_path, "email\nann@example.com\n"))
    with transaction(settings.database_url) as s:
        s.execute(update(Subscriber).values(opted_out_at=utcnow()))

    report = import_csv(settings, write(tmp_path, "email,locale\nann@example.com,fr\n", "again.csv"))

    assert report.updated == 1
    assert everyone(settings)["ann@example.com"] == ("ann@example.com", None, "fr", [], True)


def test_a_file_without_a_column_keeps_what_is_stored(settings, tmp_path):
    import_csv(settings, write(tmp_path, "email,locale,components\nann@example.com,de,Login\n"))

    import_csv(settings, write(tmp_path, "email,phone\nann@example.com,+14155550100\n", "phones.csv"))

    assert everyone(settings)["ann@example.com"] == ("ann@example.com", "+14155550100", "de", ["Login"], False)


def test_duplicate_rows_in_one_file_count_once(settings, tmp_path):
    report = import_csv(settings, write(tmp_path, "email,phone\n"
                                                  "ann@example.com,+14155550100\n"
                                                  "ann@example.com,+14155550100\n"
                                                  ",+1 415 555 0100\n"))

    assert (report.imported, report.updated, report.errors) == (1, 0, [])
    assert len(everyone(settings)) == 1


def test_a_row_joining_two_subscribers_is_an_error(settings, tmp_path):
    import_csv(settings, write(tmp_path, "email,phone\nann@example.com,\n,+14155550100\n"))

    report = import_csv(settings, write(tmp_path, "email,phone\nann@example.com,+14155550100\n", "join.csv"))

    assert report.updated == 0
    assert report.errors == [(2, "line 2: email ann@example.com belongs to subscriber 1 but phone +14155550100 to "
                                 "subscriber 2; put them on separate rows or fix one")]


def test_national_numbers_need_a_region(settings, tmp_path):
    path = write(tmp_path, "phone\n(415) 555-0100\n")

    assert [line for line, _ in import_csv(settings, path).errors] == [2]
    assert import_csv(settings, path, default_region="US").imported == 1
    assert "+14155550100" in everyone(settings)


def test_line_numbers_count_physical_lines_of_quoted_fields(settings, tmp_path):
    path = write(tmp_path, 'email,components\r\n"ann@example.com","Login;\r\nAPI"\r\n\r\nbad,\r\n')

    report = import_csv(settings, path)

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
        import_csv(settings, write(tmp_path, text))


def test_a_file_longer_than_one_batch_is_imported_whole_and_counts_repeats_once(settings, tmp_path):
    rows = "".join(f"user{n}@example.com,+1415555{n:04d}\n" for n in range(2500))
    path = write(tmp_path, "email,phone\n" + rows + "user0@example.com,+14155550000\n")  # a repeat, batches later

    report = import_csv(settings, path)

    assert (report.imported, report.updated, report.errors) == (2500, 0, [])
    with transaction(settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 2500
