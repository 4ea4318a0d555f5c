"""axe-core on every dashboard page, at a phone's size and a desktop's, with something on each: zero
serious or critical WCAG 2.2 A/AA violations, or the test fails naming the rule and the element; and
every link, button and field at least 24×24 px.
(The approval, holding-link, home and public pages run it in their own tests, after their actions.)"""

import pytest

from broadcaster.holding import holding_statements
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import auth
from tests.conftest import actor, add_subscriber, add_user
from tests.e2e.conftest import PASSWORD, accessible, log_in, small_targets
from tests.integration.holding_data import approved_holding_statement
from tests.integration.surfaces_data import open_incident, publish_update


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_every_dashboard_page_has_no_serious_accessibility_violation(embedded, browser, serve_app, viewport):
    from broadcaster.web.app import create_app

    settings = embedded
    incident_id = open_incident(settings, "Login failures", "major", ("Login",))  # alice, bob, carol, root
    add_user(settings, "sam", ["social"])
    for name in ("root", "sam"):
        auth.set_password(settings, name, PASSWORD)
    add_subscriber(settings, email="c0@example.com", phone="+14155550120")
    live = publish_update(settings, incident_id)
    pending = statements.draft(settings, actor(settings, "alice"), incident_id, StatementInput(
        status="identified", body="We found the cause.", next_update="30m"))
    statements.submit(settings, actor(settings, "alice"), pending["id"])
    holding_statements.keep(settings, actor(settings, "alice"), approved_holding_statement(settings, "alice", "bob"))
    base = serve_app(create_app(settings)).url

    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{base}/login")
    accessible(page, "the login page")
    log_in(page, base, "root")
    for path in ("/dashboard", f"/dashboard/incidents/{incident_id}", f"/dashboard/incidents/{incident_id}/new",
                 f"/dashboard/statements/{pending['id']}/edit", f"/dashboard/statements/{live}",
                 f"/dashboard/statements/{pending['id']}", "/dashboard/inbox", f"/dashboard/statements/{live}/progress",
                 "/dashboard/send-log", "/dashboard/consistency", "/dashboard/holding", "/dashboard/admin",
                 "/dashboard/social", "/dashboard/statements/999999"):
        page.goto(base + path)
        if path.endswith(("/new", "/edit")):
            page.wait_for_selector("#preview-result")
        accessible(page, path)
        assert small_targets(page) == [], (path, small_targets(page))
