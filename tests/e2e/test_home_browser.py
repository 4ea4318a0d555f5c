"""The home page runs the incident, live: an overdue next update in red with its countdown; a new
version submitted meanwhile, the approvers it asked and a paused channel appear without a reload.
axe-core finds no serious or critical violation. Screenshots: docs/screenshots/home*.png."""

from datetime import timedelta

from sqlalchemy import update

from broadcaster.approvals import by_phone, decisions
from broadcaster.delivery import pause
from broadcaster.incidents import publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import auth
from broadcaster.store.db import transaction
from broadcaster.store.models import Statement, utcnow
from tests.conftest import actor, add_user
from tests.e2e.conftest import PASSWORD, accessible, keep_screenshots, log_in


def test_the_home_page_shows_what_is_overdue_and_keeps_itself_up_to_date(embedded, browser, serve_app, tmp_path):
    from broadcaster.web.app import create_app

    settings = embedded
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"], email="bob@example.com")
    auth.set_password(settings, "alice", PASSWORD)
    alice, bob = actor(settings, "alice"), actor(settings, "bob")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    v1 = statements.draft(settings, alice, incident["id"], StatementInput(
        headline="Some customers cannot log in", body="About 1 in 5 logins fail.", next_update="30m"))
    statements.submit(settings, alice, v1["id"])
    decisions.approve(settings, bob, v1["id"])
    publishing.publish(settings, alice, v1["id"], dispatch=lambda *_args, **_kw: None)
    with transaction(settings.database_url) as s:  # the promised time passed four minutes ago
        s.execute(update(Statement).where(Statement.id == v1["id"])
                  .values(next_update_at=utcnow() - timedelta(minutes=4)))
    base = serve_app(create_app(settings)).url
    shots = tmp_path / "screenshots"
    shots.mkdir()

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, base, "alice")
    due = page.locator(f"#due-{incident['id']}")
    assert "Next update overdue" in due.text_content() and "late" in due.text_content()
    assert "due-overdue" in due.get_attribute("class")
    assert due.evaluate("e => getComputedStyle(e).color") == "rgb(207, 34, 46)"  # red
    assert page.text_content(f"#incident-{incident['id']}").count("Live: v1") == 1
    accessible(page, "the home page")

    # Meanwhile: Alice submits v2 (Bob is asked by link), and SMS is paused. No reload.
    v2 = statements.draft(settings, alice, incident["id"], StatementInput(body="We found the cause.",
                                                                          next_update="30m"))
    statements.submit(settings, alice, v2["id"])
    by_phone.notify_approvers(settings, v2["id"], dispatch=lambda *_args, **_kw: None)
    pause.pause(settings, "sms", "Twilio refused the credentials (20003)")
    # The pause is the last change: a refresh that shows it shows the others. (A refresh can land between the
    # submit and the pause, the wider apart the busier the machine: the writing shown, the pause not yet.)
    page.wait_for_selector(".trouble:has-text('SMS is paused')", timeout=30000)
    page.wait_for_selector(f"#incident-{incident['id']} .writing", timeout=30000)
    writing = page.text_content(f"#incident-{incident['id']} .writing")
    assert "Waiting for approval" in writing and "v2" in writing and "asked: bob" in writing
    assert "Next update overdue" in due.text_content() and "a new version is being written" in due.text_content()
    assert page.text_content("#waiting") == "1 statement is waiting for approval"
    assert "SMS is paused" in page.text_content(".trouble")
    page.screenshot(path=str(shots / "home.png"))
    accessible(page, "the home page, refreshed")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    log_in(phone, base, "alice")
    phone.screenshot(path=str(shots / "home-phone.png"))
    assert errors == []
    keep_screenshots(shots, "home.png", "home-phone.png")
