"""axe-core on every dashboard page, at a phone's size and a desktop's, with something on each: zero
serious or critical WCAG 2.2 A/AA violations, or the test fails naming the rule and the element; every
link, button and field at least 24×24 px; nothing wider than the window (a phone's 390 px): a wide
table stacks its cells, and a long address wraps, so the page never scrolls sideways; and no words cut
off or hidden in a box that scrolls sideways, the page may fit while a table in it does not. The phone's
pass also looks at each page on a small phone (320×640) and on a phone on its side (844×390), by resizing
the window (no second visit, no second axe run), and, on a phone standing up, wants every word of the
page at 16 px or more (notes, labels, chips, badges, previews, tables, the agent desk's cards). (The
approval, holding-link, home and public pages run axe in their own tests, after their actions.)"""

import pytest

from broadcaster.alerts import rules, sources
from broadcaster.alerts.rules import RuleInput
from broadcaster.holding import emailed_links, holding_statements
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import auth
from broadcaster.playbooks import statement_templates as playbooks
from broadcaster.playbooks.statement_templates import TemplateInput
from broadcaster.stakeholders import audiences
from tests import loopback
from tests.conftest import actor, add_subscriber, add_user
from tests.e2e.conftest import PASSWORD, accessible, clipped, log_in, small_targets, small_text
from tests.integration.alert_fixtures import TEMPLATE, alertmanager_payload
from tests.integration.holding_data import approved_holding_statement
from tests.integration.surfaces_data import open_incident, publish_update

# Long words, as real lists have them: an address or a name with no space to break at.
LONG_EMAIL = "maximiliana.vandenberghe-oyelaran@communications.example-holdings.com"
AGENT_NOTES = {"answers": [{"question": "Is my data safe?", "answer": "Yes: only signing in is affected."}]}


def _something_on_every_page(settings) -> dict:
    """An incident with a live version and one waiting, a holding statement, users and subscribers with
    long addresses, stakeholder lists, a template, a rule and a source: the ids the paths take."""
    incident_id = open_incident(settings, "Login failures", "major", ("Login",))  # alice, bob, carol, root
    add_user(settings, "sam", ["social"])
    add_user(settings, "executive-communications-duty-officer", ["approver"], email=LONG_EMAIL,
             phone="+442079460958")
    for name in ("root", "sam"):
        auth.set_password(settings, name, PASSWORD)
    add_subscriber(settings, email="c0@example.com", phone="+14155550120")
    add_subscriber(settings, email=LONG_EMAIL, phone="+14155550121")
    live = publish_update(settings, incident_id, agent_notes=AGENT_NOTES)
    pending = statements.draft(settings, actor(settings, "alice"), incident_id, StatementInput(
        status="identified", body="We found the cause.", next_update="30m"))
    statements.submit(settings, actor(settings, "alice"), pending["id"])
    add_subscriber(settings, email="ops-alerts@example.com", locale="pt-BR",
                   webhook_url="https://hooks.customer-operations.example.com/incoming/broadcaster/7f3a9c2e0b41d8a6")
    auth.create_token(settings, "executive-communications-duty-officer", "approver")
    alice = actor(settings, "alice")
    holding = holding_statements.keep(settings, alice, approved_holding_statement(settings, "alice", "bob"))
    holding_statements.set_pin(settings, "executive-communications-duty-officer", "4821")  # a link asks for it
    links = emailed_links.send_links(settings, alice, holding["number"])  # a row in the Holding page's links table
    assert [one.user for one in links["sent"]] == ["executive-communications-duty-officer"], links
    root = actor(settings, "root")
    audiences.create_audience(settings, root, "leadership", "The executive team and the board's chair")
    for name, email, phone in (("Chris Okonkwo-Delacroix (Chief Executive Officer)", LONG_EMAIL, "+14155550177"),
                               ("Dana Reyes", "dana.reyes@example.com", None),
                               ("Regulatory-Affairs-Out-Of-Hours-Desk", None, "+442079460000")):
        audiences.add_member(settings, root, "leadership", name, email, phone)
    audiences.create_audience(settings, root, "first-responders", "", "open_and_resolve")
    playbooks.add_template(settings, root, TemplateInput(**TEMPLATE))
    token = sources.add_source(settings, root, "prometheus-production-eu-west", "alertmanager")["token"]
    rules.add_rule(settings, root, RuleInput(name="login", template="login-down", notify=["alice", "bob"],
                                             matchers={"service": "login", "severity": "critical|page"}))
    return {"incident": incident_id, "live": live, "pending": pending["id"], "source_token": token}


# On a phone standing up every word of a page is 16 px or more: notes, labels, chips, badges, previews, tables.
EVERY_WORD = "main *"
# A phone standing up, a small phone and a phone on its side: the window is resized to the others after the first.
PHONES = ({"width": 390, "height": 844}, {"width": 320, "height": 640}, {"width": 844, "height": 390})


@pytest.mark.parametrize("viewports", [({"width": 1280, "height": 900},), PHONES], ids=["desktop", "phone"])
def test_every_dashboard_page_has_no_serious_accessibility_violation(embedded, browser, serve_app, viewports):
    from broadcaster.web.app import create_app

    settings = embedded
    made = _something_on_every_page(settings)
    incident_id, live, pending = made["incident"], made["live"], made["pending"]
    base = serve_app(create_app(settings)).url
    came_in = loopback.post(f"{base}/webhooks/alerts/prometheus-production-eu-west", json=alertmanager_payload(),
                            headers={"Authorization": f"Bearer {made['source_token']}"}, timeout=30)
    assert came_in.json()["outcome"] == "opened a draft incident"  # the Alerts page lists what came in

    viewport = viewports[0]
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{base}/login")
    fits(page, "/login", viewport["width"])
    accessible(page, "the login page")
    log_in(page, base, "root")
    for path in ("/dashboard", f"/dashboard/incidents/{incident_id}", f"/dashboard/incidents/{incident_id}/new",
                 f"/dashboard/statements/{pending}/edit", f"/dashboard/statements/{live}",
                 f"/dashboard/statements/{pending}", "/dashboard/inbox", f"/dashboard/statements/{live}/progress",
                 "/dashboard/send-log", "/dashboard/consistency", "/dashboard/holding", "/dashboard/admin",
                 "/dashboard/stakeholders", "/dashboard/alerts", f"/dashboard/incidents/{incident_id}/postmortem",
                 "/agent", f"/agent/incidents/{incident_id}", "/dashboard/social", "/dashboard/statements/999999"):
        page.set_viewport_size(viewport)
        page.goto(base + path)
        if path.endswith(("/new", "/edit")):
            page.wait_for_selector("#preview-result")
        if path.endswith("/progress"):
            page.wait_for_selector("#channels td")  # the channels' rows come from the API
        accessible(page, path)
        for size in viewports:
            page.set_viewport_size(size)
            fits(page, path, size["width"])
            where = f"{path} at {size['width']}×{size['height']}"
            assert clipped(page) == [], (where, clipped(page))
            assert small_targets(page) == [], (where, small_targets(page))
            if size["width"] < size["height"] < 1000:  # a phone standing up
                assert small_text(page, EVERY_WORD) == [], (where, small_text(page, EVERY_WORD))


def fits(page, path: str, width: int) -> None:
    """Nothing on the page is wider than the window: the page does not scroll sideways."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{path} is {wide} px wide in a {width} px window: the page scrolls sideways"
