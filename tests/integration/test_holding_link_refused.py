"""An emailed holding link that no longer switches anything on (expired, forged or rebound, for words
that changed, voided by a new version, for someone who lost the role or the address, replaced or
revoked): both its page and its POST are refused, answered on the page in plain words, and audited."""

from datetime import timedelta

from sqlalchemy import update

from broadcaster.holding import emailed_links
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import users
from broadcaster.store.access_models import HoldingLink
from broadcaster.store.db import transaction
from broadcaster.store.models import Statement, User, utcnow
from tests.conftest import actor
from tests.integration.holding_link_data import (
    READY,
    calm,
    client,
    last_audit,
    link_of,
    said,
    sendgrid,
    state,
)

FIXTURES = (calm, client, sendgrid)  # pytest finds them here (holding_link_data.py)


def refused(client, settings, path: str, token: str, pin: str, why: str, statement_id: int,
            title: str = "") -> list:
    """Both the page and its POST are refused (the page titled `title`), nothing goes live, and the
    audit trail says `why`; returns both answers."""
    answers = [client.get(f"{path}?t={token}"), client.post(path, data={"t": token, "pin": pin})]
    for response in answers:
        assert response.status_code == 403 and (not title or said(response, "done-title") == title), response.text
        assert state(settings, statement_id) == "approved"
        action, detail = last_audit(settings)
        assert action.startswith("refused: ") and why in detail["reason"]
        assert "Please open the dashboard" not in response.text and 'href="/dashboard' not in response.text
    return answers


def test_an_expired_link_is_refused(calm, client):
    settings, sid, _, sent = calm
    with transaction(settings.database_url) as s:
        s.execute(update(HoldingLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    for page in refused(client, settings, *link_of(sent, "bob"), "4821", "expired", sid,
                        "This holding link has expired"):
        assert said(page, "what-happened").endswith("Nothing was switched on with it.")
        assert said(page, "where-it-stands") == READY
        assert said(page, "to-do") == (  # bob has a registered phone: both ways without a password
            "To switch it on now, text HOLD 1 and your PIN (for example HOLD 1 1234) to the Example Co Broadcaster "
            "number from your registered phone. To get a fresh link by email instead, text HOLD 1.")
    alice_path, alice_token = link_of(sent, "alice")  # no phone: she is told so, and who can help
    assert said(client.get(f"{alice_path}?t={alice_token}"), "to-do").startswith(
        "No phone number is registered for you, so you cannot switch it on by text message.")


def test_a_forged_link_or_one_whose_row_was_rebound_to_other_words_is_refused(calm, client):
    settings, sid, _, sent = calm
    path, token = link_of(sent, "bob")
    mangled = "This holding link does not work"
    for page in refused(client, settings, path, token[:-4] + "0000", "4821", "not valid", sid, mangled):
        assert "Login problems" not in page.text and "statement #1" not in page.text  # nothing of any
    refused(client, settings, path.replace(path.rsplit("/", 1)[1], "999"), token, "4821", "not valid", sid, mangled)
    with transaction(settings.database_url) as s:  # the link's bound hash rewritten: its signature breaks
        s.execute(update(HoldingLink).values(content_hash="0" * 64))
    refused(client, settings, path, token, "4821", "not valid", sid, mangled)


def test_a_link_for_words_that_changed_behind_the_apps_back_is_refused(calm, client):
    settings, sid, _, sent = calm
    with transaction(settings.database_url) as s:
        s.execute(update(Statement).where(Statement.id == sid).values(content_hash="f" * 64))
    refused(client, settings, *link_of(sent, "bob"), "4821", "other words", sid, "Holding statement #1 has new words")


def test_a_new_version_of_the_incident_voids_the_links(calm, client):
    settings, sid, _, sent = calm
    statements.draft(settings, actor(settings, "alice"), statements.get_statement(settings, sid)["incident_id"],
                     StatementInput(headline="Logins fail for some", next_update="none"))
    path, token = link_of(sent, "bob")
    for page in (client.get(f"{path}?t={token}"), client.post(path, data={"t": token, "pin": "4821"})):
        assert page.status_code == 403
        assert said(page, "done-title") == "Holding statement #1 can no longer be switched on"
        assert said(page, "what-happened") == ("It was never switched on: a newer version of the incident (v2) "
                                               "was written instead, so nothing of it was sent.")
        assert said(page, "where-it-stands") == "Holding statement #1 (“Login problems”) is not live."


def test_a_holding_statement_withdrawn_by_hand_is_not_said_to_be_replaced(calm, client):
    settings, sid, _, sent = calm
    statements.withdraw(settings, actor(settings, "alice"), sid)
    path, token = link_of(sent, "bob")
    page = client.get(f"{path}?t={token}")
    assert page.status_code == 403
    assert said(page, "what-happened") == "It was never switched on: it was withdrawn, so nothing of it was sent."


def test_a_link_for_someone_who_lost_the_role_is_refused(calm, client):
    settings, sid, _, sent = calm
    users.set_roles(settings, actor(settings, "root"), "bob", ["social"])
    for page in refused(client, settings, *link_of(sent, "bob"), "4821", "bob cannot activate holding", sid,
                        "This holding link cannot be used"):
        assert "Login problems" not in page.text  # no longer theirs: nothing of the statement is told


def test_a_link_sent_to_an_address_the_user_no_longer_has_is_refused(calm, client):
    settings, sid, _, sent = calm
    with transaction(settings.database_url) as s:
        s.execute(update(User).where(User.name == "bob").values(email="bob@new.example.com"))
    for page in refused(client, settings, *link_of(sent, "bob"), "4821", "that is no longer bob", sid,
                        "This holding link cannot be used"):
        assert "Login problems" not in page.text  # the old mailbox may be someone else's now


def test_a_fresh_link_revokes_the_older_one_and_revoke_ends_them_all(calm, client):
    settings, sid, number, sent = calm
    old_path, old_token = link_of(sent, "bob")
    fresh = emailed_links.send_links(settings, actor(settings, "bob"), number, ["bob"])
    assert [s.user for s in fresh["sent"]] == ["bob"]
    replaced = "This holding link was replaced"
    for page in refused(client, settings, old_path, old_token, "4821", "revoked", sid, replaced):
        assert said(page, "what-happened").endswith(": a newer link was emailed to you, or the links were closed "
                                                    "from the dashboard. Nothing was switched on with it.")
    assert emailed_links.revoke_links(settings, actor(settings, "alice"), number)["revoked"] == 2  # alice's, bob's new
    refused(client, settings, *link_of(fresh, "bob"), "4821", "revoked", sid)
    assert {link["state"] for link in emailed_links.list_links(settings, [number])} == {"revoked"}

