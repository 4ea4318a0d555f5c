"""The dashboard in a real Chromium: an author drafts and sees the SMS meter go red, fixes it and
submits; an approver in a second browser context approves; the author publishes and watches the
fan-out reach 100 % (sent by the embedded worker, as `broadcaster serve` runs it); the send log
shows every channel. Screenshots are saved as test artifacts; UPDATE_SCREENSHOTS=1 also copies them
to docs/screenshots/ (the README shows them), so an ordinary test run never dirties the checkout."""

from broadcaster.incidents import statements
from broadcaster.people import auth
from tests.conftest import actor, add_subscriber, add_user
from tests.e2e.conftest import PASSWORD, accessible, in_first_screen, keep_screenshots, log_in


def test_author_drafts_approver_approves_author_publishes_and_watches_it_go_out(embedded, browser, serve_app,
                                                                                  tmp_path):
    settings = embedded
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    for name in ("alice", "bob"):
        auth.set_password(settings, name, PASSWORD)
    for n in range(3):
        add_subscriber(settings, email=f"c{n}@example.com", phone=f"+1415555012{n}")
    incident = statements.open_incident(settings, actor(settings, "alice"), "Login failures", "major", ["Login"])
    from broadcaster.web.app import create_app

    base = serve_app(create_app(settings)).url
    shots = tmp_path / "screenshots"
    shots.mkdir()

    author = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    errors: list[str] = []
    author.on("pageerror", lambda error: errors.append(str(error)))
    # A script or style the page's Content-Security-Policy blocks is a console error.
    author.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    log_in(author, base, "alice")
    author.goto(f"{base}/dashboard/incidents/{incident['id']}/new")
    author.fill("#headline", "Some customers cannot log in")
    author.fill("#body", "About 1 in 5 logins fail. We are investigating.")
    author.fill("#workaround", "Use the mobile app, which is not affected, or try again in a few minutes. " * 5)
    author.wait_for_selector('.meter.broken[data-channel="sms"]')
    assert author.is_disabled("#submit")
    assert "SMS segments" in author.text_content("#limits-summary")
    author.screenshot(path=str(shots / "editor.png"))

    author.fill("#workaround", "Use the mobile app.")
    author.wait_for_selector("#submit:enabled")
    assert author.query_selector('.meter.broken[data-channel="sms"]') is None
    author.click("#submit")
    author.wait_for_selector("text=submitted for approval")
    assert author.get_attribute("#state", "data-state") == "pending_approval"
    assert author.text_content("#state") == "Waiting for approval"

    approver = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    log_in(approver, base, "bob")
    approver.goto(f"{base}/dashboard/inbox")
    assert "Some customers cannot log in" in approver.text_content("main")
    approver.screenshot(path=str(shots / "inbox.png"), full_page=False)
    approver.click("button.primary:has-text('Approve')")
    approver.wait_for_selector("text=Nothing is waiting for approval")

    author.reload()
    author.click("#publish")
    author.wait_for_selector("#percent:has-text('100 %')", timeout=30000)
    author.screenshot(path=str(shots / "progress.png"), full_page=True)

    author.click("text=Send log for this version")
    author.wait_for_selector("#log tbody tr")  # the click navigates: read the send log once it is there
    rows = author.query_selector_all("#log tbody tr")  # one row per delivery, with its latest status
    assert len(rows) == 14 and {row.get_attribute("data-status") for row in rows} <= {"sent", "simulated"}
    assert {row.get_attribute("data-channel") for row in rows} == {"banner", "status_page", "x", "email", "sms", "ivr",
                                                                           "agent", "slack", "teams", "zendesk"}
    assert "Phone line" in author.text_content("#log")
    author.click("#log tbody tr:first-child summary")
    steps = [li.text_content().split()[1] for li in author.query_selector_all("#log tbody tr:first-child ol.events li")]
    assert steps == ["Waiting", "Sending", "Simulated"]
    author.screenshot(path=str(shots / "send-log.png"), full_page=False)
    accessible(author, "the send log")
    author.goto(f"{base}/dashboard/consistency")
    assert author.get_attribute('tr[data-channel="webhook"]', "data-state") == "no targets"
    accessible(author, "the consistency page")
    assert errors == []
    keep_screenshots(shots, "editor.png", "inbox.png", "progress.png", "send-log.png")


def test_a_holding_statement_is_switched_on_from_the_emailed_link_on_a_phone(embedded, browser, serve_app, tmp_path):
    """The standing link opens the words of every channel; the PIN and the button switch it on."""
    from broadcaster.holding import emailed_links, holding_statements
    from broadcaster.web.app import create_app
    from tests.integration.holding_data import HEADLINE, approved_holding_statement

    settings = embedded
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"])
    holding_statements.set_pin(settings, "alice", "1357")
    alice, statement_id = actor(settings, "alice"), approved_holding_statement(settings)
    number = holding_statements.keep(settings, alice, statement_id)["number"]
    url = emailed_links.send_links(settings, alice, number)["sent"][0].url

    base = serve_app(create_app(settings)).url
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    errors: list[str] = []
    phone.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    phone.goto(base + url.removeprefix("http://127.0.0.1:8080"))
    assert HEADLINE in phone.text_content("#channel-sms")
    for first in ("#ask-title", "#says", "#reach", "#pin", "#switch-on"):  # all in the first screen of a phone
        assert in_first_screen(phone, first), first
    assert HEADLINE in phone.text_content("#says")
    phone.screenshot(path=str(tmp_path / "hold-phone.png"), full_page=False)
    accessible(phone, "the holding link's page")
    phone.fill("#pin", "1357")
    phone.click("#switch-on")
    phone.wait_for_selector("text=Switched on")
    assert "It is live now" in phone.text_content("#next-step")
    assert phone.get_attribute("text=Watch it go out", "href") == f"/dashboard/statements/{statement_id}/progress"
    assert statements.get_statement(settings, statement_id)["state"] == "published"
    accessible(phone, "the page after switching on")
    assert errors == []
    keep_screenshots(tmp_path, "hold-phone.png")
