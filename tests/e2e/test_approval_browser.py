"""An approver on a phone, from the link in their email: the first screen of a 390×844 phone shows
the incident, its impact, what changed since the live version (word by word), where it goes and to
how many, and both buttons; every channel follows as customers will see it (the email in a sandboxed
frame, the SMS as a bubble, the post as a post, the phone line's script with a play button). The
approver approves by keyboard alone, and the page after says what happens next. axe-core finds no
serious or critical violation on either page. Screenshots: docs/screenshots/approve-*.png."""

import re

from broadcaster.approvals import by_phone, decisions
from broadcaster.incidents import publishing, statements
from broadcaster.incidents.statements import StatementInput
from tests.conftest import actor, add_subscriber, add_user
from tests.e2e.conftest import accessible, in_first_screen, keep_screenshots

BEFORE = StatementInput(headline="Some customers cannot log in", body="About 1 in 5 logins fail. We are investigating.",
                        next_update="30m")
AFTER = StatementInput(status="identified", headline="Some customers cannot log in on the app",
                       body="About 1 in 3 logins fail. We found the cause: a faulty release, being rolled back.",
                       next_update="1h")


def second_version_waiting(settings) -> tuple[int, str]:
    """v1 live, v2 (what changed: status, headline, body) waiting for Bob; Bob's approval link."""
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com")
    add_user(settings, "carol", ["approver"])
    for n in range(3):
        add_subscriber(settings, email=f"c{n}@example.com", phone=f"+1415555012{n}")
    alice, carol = actor(settings, "alice"), actor(settings, "carol")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    v1 = statements.draft(settings, alice, incident["id"], BEFORE)
    statements.submit(settings, alice, v1["id"])
    decisions.approve(settings, carol, v1["id"])
    publishing.publish(settings, alice, v1["id"], dispatch=lambda *_args, **_kw: None)
    v2 = statements.draft(settings, alice, incident["id"], AFTER)
    statements.submit(settings, alice, v2["id"])
    link = by_phone.mint_link(settings, actor(settings, "bob"), v2["id"])["url"]
    return v2["id"], link.split("/approve/", 1)[1]


def test_the_approval_link_on_a_phone_shows_what_changed_and_both_buttons_first(embedded, browser, serve_app,
                                                                                   tmp_path):
    from broadcaster.web.app import create_app

    settings = embedded
    statement_id, path = second_version_waiting(settings)
    base = serve_app(create_app(settings)).url
    shots = tmp_path / "screenshots"
    shots.mkdir()

    wide = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    wide.goto(f"{base}/approve/{path}")
    wide.screenshot(path=str(shots / "approve.png"))
    wide.context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.on("console", lambda message: message.type == "error" and errors.append(message.text))
    phone.goto(f"{base}/approve/{path}")
    for first in ("#ask-title", ".facts", "#changes", "#reach", "#approve", "#reject"):
        assert in_first_screen(phone, first), f"{first} is not in the first screen of a phone"
    assert phone.text_content("#ask-title") == "Login failures"
    changes = phone.text_content("#changes")
    assert "Changed since v1" in changes and "Status" in changes and "Headline" in changes
    assert phone.text_content('[data-field="headline"] ins').split() == ["[added:", "on", "the", "app]"]
    assert "investigating" in phone.text_content('[data-field="status"] del')
    assert "[removed: 5]" in phone.text_content('[data-field="body"]')
    assert "Email · 3 subscribers" in phone.text_content("#reach")
    assert "Not sent to SMS subscribers" in phone.text_content("#not-this-time")  # SMS: opens and resolves only
    phone.screenshot(path=str(shots / "approve-phone.png"))

    # Every channel as customers see it: names people use, the email sandboxed, the SMS a bubble.
    assert phone.text_content("#channel-status_page h3").startswith("Status page")
    assert phone.text_content("#channel-ivr h3").startswith("Phone line")
    frame = phone.locator("#channel-email iframe")
    assert frame.get_attribute("sandbox") == "" and "on the app" in frame.get_attribute("srcdoc")
    assert "on the app" in phone.frame_locator("#channel-email iframe").locator("h1").text_content()
    assert "1 segment · GSM-7" in phone.text_content("#channel-sms .look-facts")
    assert phone.locator("#channel-ivr button.speak").is_visible()
    assert not phone.locator("#channel-email details.source pre").first.is_visible()  # source: one click away
    accessible(phone, "the approval page")

    # Approve by keyboard alone: Tab to the comment, type, Tab to Approve, Enter.
    phone.focus("#comment")
    phone.keyboard.type("Reads well")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "approve"
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#next-step")
    assert "It is not live yet" in phone.text_content("#next-step")
    assert "alice" in phone.text_content("#next-step")
    assert statements.get_statement(settings, statement_id)["state"] == "approved"
    phone.screenshot(path=str(shots / "approve-done-phone.png"))
    accessible(phone, "the page after approving")
    assert errors == []
    keep_screenshots(shots, "approve.png", "approve-phone.png", "approve-done-phone.png")


def test_rejecting_from_the_link_needs_a_reason_and_keeps_what_was_typed(embedded, browser, serve_app):
    from broadcaster.web.app import create_app

    settings = embedded
    statement_id, path = second_version_waiting(settings)
    base = serve_app(create_app(settings)).url
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    phone.goto(f"{base}/approve/{path}")
    phone.click("#reject")
    phone.wait_for_selector("#problem")
    assert "say why" in phone.text_content("#problem")
    assert statements.get_statement(settings, statement_id)["state"] == "pending_approval"
    phone.fill("#comment", "The cause is not confirmed yet")
    phone.click("#reject")
    phone.wait_for_selector("text=Rejected: v2")
    assert statements.get_statement(settings, statement_id)["state"] == "rejected"


def test_a_spent_or_mangled_link_on_a_phone_says_what_happened_and_offers_only_working_links(embedded, browser,
                                                                                             serve_app, tmp_path):
    """Opened again after approving, after publishing, and mangled: each says what happened in the first
    screen, with no dashboard link for bob (no password), and axe finds nothing serious."""
    from broadcaster.web.app import create_app

    settings = embedded
    statement_id, path = second_version_waiting(settings)
    base = serve_app(create_app(settings)).url
    shots = tmp_path / "screenshots"
    shots.mkdir()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{base}/approve/{path}")
    phone.click("#approve")
    phone.wait_for_selector("#next-step")
    assert phone.locator("main a").count() == 0  # no dashboard (no password); v1 never reached the status page
    phone.goto(f"{base}/approve/{path}")
    assert phone.text_content("#done-title") == "You approved v2 of “Login failures”"
    assert phone.text_content("#where-it-stands").split()[:4] == ["It", "is", "not", "published"]
    publishing.publish(settings, actor(settings, "alice"), statement_id, dispatch=lambda *_args, **_kw: None)
    phone.reload()
    # Published, but no worker sent it (dispatch did nothing): the page does not claim the status page shows it.
    assert re.fullmatch(r"It was published at .+ UTC\. It is not on the status page yet: it is on its way\.",
                        " ".join(phone.text_content("#where-it-stands").split()))
    for part in ("#done-title", "#what-happened", "#where-it-stands", "#to-do"):
        assert in_first_screen(phone, part), f"{part} is not in the first screen of a phone"
    assert "/dashboard" not in (phone.evaluate("[...document.querySelectorAll('main a')].map(a => a.href).join()"))
    accessible(phone, "a used approval link")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(shots / "approve-used-phone.png"))
    phone.goto(f"{base}/approve/{path[:-6]}")
    assert phone.text_content("#done-title") == "This approval link does not work"
    accessible(phone, "a mangled approval link")
    phone.screenshot(path=str(shots / "approve-mangled-phone.png"))
    keep_screenshots(shots, "approve-used-phone.png")

