"""A published postmortem on the status page in a real Chromium, on a desk and on a phone: inside its
incident's entry, its links kept, nothing of a script left; the pictures are the docs'."""

import pytest

from broadcaster.web.public import create_public_app
from tests.conftest import actor, make_settings
from tests.e2e.conftest import keep_screenshots
from tests.integration.surfaces_data import open_incident, publish_update

VIEWPORTS = {"postmortem-desktop.png": {"width": 1280, "height": 900},
             "postmortem-phone.png": {"width": 390, "height": 844}}
MARKDOWN = """# What happened

On Tuesday at 14:05 UTC the certificate of the login service expired. For **42 minutes** about 1 in 5
logins failed; the mobile app, which uses another service, kept working.

## Why

The certificate was renewed by hand, and the reminder went to a mailbox nobody reads any more.

## What we are changing

1. Certificates renew on their own 30 days before they expire.
2. An alert fires 14 days before any certificate expires.
3. Read [our certificate runbook](https://example.com/runbook).

<script>document.title = "hacked"</script>
"""


@pytest.fixture
def live(database_url):
    return make_settings(database_url, public_cache_seconds=0, company_name="Example Co")


def test_a_postmortem_on_a_desk_and_on_a_phone(live, browser, serve_app, tmp_path):
    from broadcaster.delivery.chunk import send_now
    from broadcaster.postmortems import workflow

    incident = open_incident(live, "Login failures", "major", ("Login",))
    publish_update(live, incident, headline="Some customers cannot log in", body="About 1 in 5 logins fail.")
    publish_update(live, incident, status="resolved", headline="Logins work again",
                   body="We replaced the expired certificate.")
    written = workflow.write(live, actor(live, "alice"), incident, MARKDOWN)
    workflow.approve(live, actor(live, "bob"), written["id"])
    workflow.publish(live, actor(live, "alice"), written["id"], dispatch=send_now)
    app = serve_app(create_public_app(live))
    for name, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport, is_mobile=viewport["width"] < 500)
        try:
            page = context.new_page()
            assert page.goto(f"{app.url}/status").status == 200
            summary = page.locator(f"#incident-{incident} summary")
            assert "Postmortem" in summary.text_content()
            summary.click()  # the past incident opens, its postmortem first
            body = page.locator(f"#incident-{incident} .postmortem-body")
            assert body.is_visible() and "42 minutes" in body.text_content()
            assert body.locator("a").get_attribute("href") == "https://example.com/runbook"
            assert page.title() != "hacked" and "document.title" not in page.content()
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            page.evaluate(f"document.getElementById('postmortem-{incident}').scrollIntoView()")
            page.screenshot(path=str(tmp_path / name))
        finally:
            context.close()
    keep_screenshots(tmp_path, *VIEWPORTS)


DASHBOARD_VIEWPORTS = {"postmortem-editor.png": {"width": 1280, "height": 900},
                       "postmortem-approve-phone.png": {"width": 390, "height": 844}}


def test_the_dashboard_previews_then_an_approver_approves_on_a_phone(live, browser, serve_app, tmp_path):
    from broadcaster.people import auth
    from broadcaster.web.app import create_app
    from tests.e2e.conftest import PASSWORD, log_in

    incident = open_incident(live, "Login failures", "major", ("Login",))
    publish_update(live, incident, headline="Some customers cannot log in", body="About 1 in 5 logins fail.")
    publish_update(live, incident, status="resolved", headline="Logins work again", body="Fixed.")
    for name in ("alice", "bob"):
        auth.set_password(live, name, PASSWORD)
    base = serve_app(create_app(live)).url
    errors: list[str] = []
    author = browser.new_context(viewport=DASHBOARD_VIEWPORTS["postmortem-editor.png"]).new_page()
    author.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    log_in(author, base, "alice")
    author.goto(f"{base}/dashboard/incidents/{incident}/postmortem")
    author.fill("#markdown", MARKDOWN)
    author.click("button[value=preview]")
    author.wait_for_selector("text=Preview (not saved)")
    assert "42 minutes" in author.text_content(".postmortem-preview")
    assert author.input_value("#markdown").startswith("# What happened")  # the text is kept
    author.screenshot(path=str(tmp_path / "postmortem-editor.png"))
    author.click("button[value=save]")
    author.wait_for_selector("text=As saved")

    approver = browser.new_context(viewport=DASHBOARD_VIEWPORTS["postmortem-approve-phone.png"],
                                   is_mobile=True).new_page()
    log_in(approver, base, "bob")
    approver.goto(f"{base}/dashboard/incidents/{incident}/postmortem")
    assert approver.evaluate("document.documentElement.scrollWidth") <= 390
    approver.screenshot(path=str(tmp_path / "postmortem-approve-phone.png"))
    approver.click("button:has-text('Approve exactly')")
    approver.wait_for_selector("text=1 of 1 approval (bob)")
    author.reload()
    author.click("button:has-text('Publish')")
    author.wait_for_selector("text=postmortem published")
    assert errors == []
    keep_screenshots(tmp_path, *DASHBOARD_VIEWPORTS)
