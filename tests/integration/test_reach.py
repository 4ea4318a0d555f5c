"""Who a statement would reach, as the approval pages say it: per channel, the opted-in subscribers with
that address who want one of its components (none chosen: every component); whether the notify rules
send them this update at all."""

from broadcaster.audience import subscribers
from broadcaster.audience.reach import reach
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from tests.conftest import actor, add_subscriber, add_user


def test_reach_counts_the_subscribers_who_want_the_components_on_each_channel(settings):
    add_user(settings, "alice", ["author"])
    add_subscriber(settings, email="all@example.com", phone="+14155550101")  # every component
    add_subscriber(settings, ["Login"], email="login@example.com")
    add_subscriber(settings, ["Login", "API"], phone="+14155550102")
    add_subscriber(settings, ["Payments"], email="payments@example.com", phone="+14155550103")
    gone = add_subscriber(settings, ["Login"], email="gone@example.com")
    subscribers.remove_subscriber(settings, actor(settings, "root"), gone["id"])
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    draft = statements.draft(settings, alice, incident["id"], StatementInput(headline="Logins fail", body="1 in 5."))

    found = reach(settings, draft["id"])
    assert found["event"] == "open"
    assert found["channels"]["email"] == {"live": False, "notified": True, "recipients": 2, "simulated": True}
    assert found["channels"]["sms"]["recipients"] == 2 and found["channels"]["sms"]["notified"]
    assert found["channels"]["status_page"]["live"] and found["channels"]["status_page"]["recipients"] is None
    # The built-in surfaces send for real with no provider to set up (they have no rate either): never "simulated".
    assert {name for name in ("status_page", "banner", "ivr", "agent") if found["channels"][name]["simulated"]} == set()
    demo = reach(settings.model_copy(update={"simulate": True}), draft["id"])  # `broadcaster demo`: nothing leaves
    assert demo["channels"]["status_page"]["simulated"] and demo["channels"]["banner"]["simulated"]
    assert "reply" not in found["channels"]  # sent on demand, never at publish
