"""Every public page besides the banner has the status page's look, and axe-core finds no serious or
critical violation on any of them: the status page, the subscribe form (and its refusal, the form
again with what was typed), the page after signing up, confirm, done, manage, unsubscribe, and a link
that is not valid. Touch targets are at least 24×24 px. Screenshots: docs/screenshots/subscribe*.png."""

from broadcaster.audience import signup
from broadcaster.incidents import components
from tests.conftest import actor
from tests.e2e.conftest import accessible, keep_screenshots, small_targets
from tests.integration.surfaces_data import open_incident, publish_update


def test_the_public_pages_share_one_look_and_pass_axe(embedded, browser, serve_app, tmp_path):
    from broadcaster.web.app import create_app

    settings = embedded
    incident_id = open_incident(settings, "Login failures", "major", ("Login",))  # and the users it needs
    for name, group in (("Login", "Web"), ("Checkout", "Web"), ("Payments", None)):
        components.add_component(settings, actor(settings, "root"), name, group=group)
    publish_update(settings, incident_id)
    base = serve_app(create_app(settings)).url
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()

    page.goto(f"{base}/status")
    levels = [int(h.evaluate("e => e.tagName")[1]) for h in page.query_selector_all("h1, h2, h3, h4, h5, h6")]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels  # no skips
    group = page.locator("ul.components li.group", has_text="Web")  # a group, its components inside it
    assert group.locator("ul li").all_text_contents()[0].startswith("Checkout") or "Login" in group.inner_text()
    assert "Payments" not in group.inner_text()
    accessible(page, "the status page")

    for viewer, name in ((page, "subscribe.png"), (phone, "subscribe-phone.png")):
        viewer.goto(f"{base}/subscribe")
        assert viewer.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
        assert viewer.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 248, 250)"
        viewer.screenshot(path=str(shots / name))
    accessible(phone, "the subscribe form")
    assert small_targets(phone) == []

    phone.fill('input[type="tel"]', "12345")  # not a phone number: the server says so
    phone.check('input[value="Payments"]')
    phone.click("button[type=submit]")
    phone.wait_for_selector(".error")
    assert phone.input_value('input[type="tel"]') == "12345"  # what was typed is kept
    assert phone.is_checked('input[value="Payments"]')
    accessible(phone, "the subscribe form refusing an address")

    phone.fill('input[type="email"]', "dana@example.com")
    phone.click("button[type=submit]")
    phone.wait_for_load_state()
    accessible(phone, "the page after signing up")

    token = signup.request_signup(settings, "email", "erin@example.com", ["Login"])["request"]
    phone.goto(f"{base}/subscribe/confirm?token={token}")
    accessible(phone, "the confirm page")
    phone.click("button[type=submit]")
    phone.wait_for_selector("text=You are subscribed")
    accessible(phone, "the subscribed page")
    manage = phone.get_attribute("text=manage your subscription", "href")
    phone.goto(base + manage[manage.index("/subscribe/manage"):])  # the link names the public site
    phone.wait_for_selector("text=Your subscription")
    accessible(phone, "the manage page")
    assert small_targets(phone) == []

    phone.goto(f"{base}/unsubscribe?d=1&t=forged")
    accessible(phone, "a link that is not valid")
    assert phone.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 248, 250)"
    keep_screenshots(shots, "subscribe.png", "subscribe-phone.png")
