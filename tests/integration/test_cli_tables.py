"""The send log and the fan-out table at 80 columns: a channel's name and a status are never cut
(they read "status_p…", "simul…", "pendi…"), the other columns wrap or give way."""

import pytest
from rich.console import Console

from broadcaster.cli.common import out
from broadcaster.cli.views import progress_table
from tests.integration.test_cli import run  # noqa: F401 - the fixture: `broadcaster ...` in this process
from tests.integration.test_cli_left_out import _publish_an_update


@pytest.mark.parametrize("backend", ["sqlite"])  # how the CLI draws: one backend says it
def test_the_send_log_and_the_fan_out_at_80_columns_cut_no_channel_or_status(run, monkeypatch, backend):  # noqa: F811
    # The console keeps the COLUMNS it was made with, when set then (in a pytest-xdist worker this test saw
    # the narrow table after COLUMNS=120): its width is set, as test_cli.py does for the preview.
    monkeypatch.setattr(out, "_width", 80)
    published = _publish_an_update(run)[1]
    log = run("log", "--statement", "2").stdout
    assert "…" not in published + log
    assert [line for line in f"{published}\n{log}".splitlines() if len(line) > 80] == []
    for word in ("status_page", "simulated", "sent", "c@example.com"):
        assert f" {word} " in log, word
    assert "│ status_page │" in published and "progress" not in published  # no room for the bar at 80
    assert "(provider and message id: at 120 columns or more, or with --json or --csv)" in log
    for listing in (["incident", "list"], ["statement", "list"], ["audit"]):
        shown = run(*listing).stdout
        assert "…" not in shown, listing
        assert " monitoring " in shown or "all channels current" in shown, listing  # it did list something
    monkeypatch.setattr(out, "_width", 120)
    wide = run("log", "--statement", "2").stdout
    assert "provider" in wide and "builtin" in wide and "(provider and message id" not in wide


def test_the_fan_out_bar_takes_what_is_left_and_has_a_header():
    counts = {"stakeholder_email": {"sent": 2, "pending": 2}, "status_page": {"sent": 1}}
    for width, bar in ((80, 0), (88, 9), (200, 20)):
        console = Console(width=width, record=True)
        console.print(progress_table(1, counts, width))
        shown = console.export_text()
        assert "…" not in shown and "stakeholder_email" in shown
        assert ("progress" in shown) == bool(bar)
        assert shown.count("█" * (bar // 2)) >= 1 and "█" * (bar + 1) not in shown, width


def test_the_audit_says_why_it_finds_drift_when_no_channel_is_behind():
    """A paused channel or sends the log cannot prove make `audit` exit 1: it names them, not only 'drift'."""
    from broadcaster.cli.views import print_audit

    report = {"incidents": [], "paused": {"sms": {"since": "2026-12-07T08:01:02+00:00", "reason": "provider 503s"}},
              "unproven_sends": 3, "drift": True}
    console = Console(width=200, record=True)
    print_audit(console, report)
    shown = console.export_text()
    assert "sms is paused since 2026-12-07 08:01 UTC: provider 503s" in shown
    assert ("3 sends of the live versions logged with a content hash that is not the hash of the words stored now "
            "(broadcaster log --verify lists them)") in shown
    assert shown.rstrip().endswith("drift: some channels are behind")
