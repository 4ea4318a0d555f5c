"""Every CSV export neutralises a cell a spreadsheet would run as a formula: the send log holds what
anyone typed on the public form (a sign-up's email address is its confirmation's target)."""

import csv
import io
import json
import uuid

import pytest
from typer.testing import CliRunner

from broadcaster.cli import app as cli
from broadcaster.config import get_settings
from broadcaster.render.spreadsheet_csv import SafeDictWriter, neutralised
from tests.conftest import make_settings
from tests.integration.api_fixtures import install

FORMULA = "=cmd|'/Ccalc'!A0@example.com"


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("plain", "plain"), ("a=1", "a=1"), ("", ""), (None, None), (7, 7),
    ({"to": "=1"}, "{'to': '=1'}")])  # a dict's text starts with '{': no formula
def test_a_cell_that_starts_a_formula_gets_an_apostrophe(value, cell):
    assert neutralised(value) == cell


def test_the_writer_neutralises_rows_one_by_one_and_many_at_once():
    out = io.StringIO()
    writer = SafeDictWriter(out, ["target"])
    writer.writeheader()
    writer.writerow({"target": "=1"})
    writer.writerows([{"target": "@2"}])
    assert [row["target"] for row in csv.DictReader(io.StringIO(out.getvalue()))] == ["'=1", "'@2"]


@pytest.fixture
def settings(database_url):
    # a sign-up limiter of this test's own: the in-memory one lives as long as the process
    return make_settings(database_url, signup_rate_storage=f"memory://?{uuid.uuid4().hex}")


@pytest.fixture
def signed_up(settings):
    """An installation whose send log holds the confirmation of a sign-up typed on the public form."""
    site = install(settings)
    page = site.client.post("/subscribe", data={"email": FORMULA})
    assert page.status_code == 200, page.text
    return site


def targets(rows) -> list[str]:
    return [row["target"] for row in rows if "Ccalc" in row["target"]]


def test_the_send_log_csv_neutralises_what_the_public_typed_and_the_json_keeps_it(signed_up):
    headers = signed_up.as_role("author")
    exported = signed_up.client.get("/api/v1/send-log.csv", headers=headers)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert targets(rows) and set(targets(rows)) == {"'" + FORMULA}
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row.values())
    raw = signed_up.client.get("/api/v1/send-log", headers=headers).json()["items"]
    assert FORMULA in {item["target"] for item in raw}


def test_broadcaster_log_csv_neutralises_too(signed_up, settings, monkeypatch):
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BROADCASTER_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    try:
        exported = CliRunner().invoke(cli, ["log", "--csv"])
        listed = json.loads(CliRunner().invoke(cli, ["log", "--json"]).stdout)
    finally:
        get_settings.cache_clear()
    assert exported.exit_code == 0, exported.output
    assert set(targets(csv.DictReader(io.StringIO(exported.stdout)))) == {"'" + FORMULA}
    assert FORMULA in {event["target"] for event in listed}
