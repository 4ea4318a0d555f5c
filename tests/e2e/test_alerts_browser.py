"""The Alerts page and the editor started from a template in a real Chromium, after a real Alertmanager
payload opened a draft: at 1280×900 and on a phone (390×844). Screenshots are test artifacts;
UPDATE_SCREENSHOTS=1 also copies them to docs/screenshots/ (the alerts guide shows them)."""


from broadcaster.alerts import rules, sources
from broadcaster.alerts.rules import RuleInput
from broadcaster.people import auth
from broadcaster.playbooks import statement_templates as playbooks
from broadcaster.playbooks.statement_templates import TemplateInput
from tests import loopback
from tests.conftest import actor, add_user
from tests.e2e.conftest import PASSWORD, keep_screenshots, log_in
from tests.integration.alert_fixtures import TEMPLATE, alertmanager_payload


def test_the_alerts_page_and_the_editor_from_a_template(embedded, browser, serve_app, tmp_path):
    settings = embedded
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com", phone="+14155550142")
    auth.set_password(settings, "alice", PASSWORD)
    alice = actor(settings, "alice")
    playbooks.add_template(settings, alice, TemplateInput(**TEMPLATE))
    playbooks.add_template(settings, alice, TemplateInput(
        name="payments-slow", title="Payments are slow", impact="minor", components=["Payments"],
        headline="Some payments take longer than usual",
        body="Since {started_at}, some card payments take a few minutes to go through. None are lost. "
             "Next update within {next_update}.", next_update="1h", resolution="Payments go through at once again.",
        resolved_body="Payments were slow for a while; none were lost, and they go through at once again."))
    token = sources.add_source(settings, actor(settings, "root"), "prom", "alertmanager")["token"]
    rules.add_rule(settings, alice, RuleInput(name="login", template="login-down",
                                              matchers={"service": "login", "severity": "critical|page"},
                                              notify=["alice", "bob"]))
    from broadcaster.web.app import create_app

    base = serve_app(create_app(settings)).url
    fired = loopback.post(f"{base}/webhooks/alerts/prom", json=alertmanager_payload("firing"), timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
    assert fired.json()["outcome"] == "opened a draft incident"
    shots = tmp_path / "screenshots"
    shots.mkdir()

    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    desk.on("pageerror", lambda error: errors.append(str(error)))
    desk.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    log_in(desk, base, "alice")
    desk.goto(f"{base}/dashboard/alerts")
    assert "Login problems: LoginErrors" in desk.text_content("#received + .scroll")
    desk.screenshot(path=str(shots / "alerts.png"), full_page=False)
    desk.goto(f"{base}/dashboard/incidents/{fired.json()['incident_id']}/new")
    desk.select_option("#template", label="payments-slow: Some payments take longer than usual")
    desk.click("#from-template button")
    desk.wait_for_selector("#headline[value='Some payments take longer than usual']")
    assert desk.input_value("#body").startswith("Since ") and "within 1 hour." in desk.input_value("#body")
    desk.wait_for_selector("#preview .card")  # the live preview of every channel, from the API
    desk.screenshot(path=str(shots / "editor-from-template.png"), full_page=False)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    log_in(phone, base, "alice")
    phone.goto(f"{base}/dashboard/alerts")
    phone.screenshot(path=str(shots / "alerts-phone.png"), full_page=False)
    # Nothing overflows the phone's width but the tables' own scrolling boxes.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    keep_screenshots(shots, "alerts.png", "editor-from-template.png", "alerts-phone.png")
