"""The confirm page of an emailed holding link: it shows every channel's words; only its POST with the
person's PIN switches the statement on, once. A refused press that leaves the link usable (a wrong PIN,
the PIN limits, a publish rule) shows the page again with the PIN field, saying in plain words what
happened, what the link and the limits leave, and what to do; the third wrong PIN closes the link."""

import re

from sqlalchemy import func, select, update

from broadcaster.holding import emailed_links, holding_statements
from broadcaster.incidents import consistency
from broadcaster.people.auth import limit_window
from broadcaster.store.db import transaction
from broadcaster.store.models import Approval, Delivery, User
from tests.integration.holding_link_data import (
    BOB_PHONE,
    READY,
    calm,
    client,
    last_audit,
    link_of,
    pin_form,
    said,
    sendgrid,
    state,
)

FIXTURES = (calm, client, sendgrid)  # pytest finds them here (holding_link_data.py)
BY_TEXT = ("text HOLD 1 and your PIN (for example HOLD 1 1234) to the Example Co Broadcaster number from your "
           "registered phone")


def test_the_link_opens_the_words_of_every_channel_and_only_the_post_with_the_pin_switches_it_on_once(calm, client):
    settings, sid, number, sent = calm
    path, token = link_of(sent, "bob")
    shown = client.get(f"{path}?t={token}")
    assert shown.status_code == 200 and "We are aware of problems logging in" in shown.text
    for channel in ("banner", "status_page", "x", "email", "sms", "ivr"):
        assert f'id="channel-{channel}"' in shown.text
    assert state(settings, sid) == "approved"  # opening it (a mail scanner, a preview) switched nothing on
    assert shown.headers["referrer-policy"] == "no-referrer" and "frame-ancestors 'none'" in \
        shown.headers["content-security-policy"]

    switched = client.post(path, data={"t": token, "pin": "4821"})
    assert switched.status_code == 200 and "Switched on" in switched.text
    assert state(settings, sid) == "published"
    report = consistency.consistency_report(settings)["incidents"][0]
    assert report["live_statement_id"] == sid and not report["drift"]
    current = {channel for channel, c in report["channels"].items() if c["state"] == "current"}
    assert current >= {"banner", "status_page", "x", "ivr", "email", "sms"}, report["channels"]
    with transaction(settings.database_url) as s:  # once on every channel, to every target
        per_target = s.execute(select(Delivery.channel, Delivery.target, func.count()).where(
            Delivery.statement_id == sid).group_by(Delivery.channel, Delivery.target)).all()
        assert {count for _, _, count in per_target} == {1}
        assert {"banner", "status_page", "ivr", "email", "sms"} <= {channel for channel, _, _ in per_target}
    assert last_audit(settings)[0] == "activate holding" and last_audit(settings)[1]["via"] == "email link"

    again = client.post(path, data={"t": token, "pin": "4821"})
    assert again.status_code == 403
    assert said(again, "done-title") == "You switched on holding statement #1"
    assert said(again, "where-it-stands") == "It is live now. The status page shows it."
    assert 'href="/dashboard' not in again.text  # no dashboard for someone who came by email, not logged in
    other_path, other_token = link_of(sent, "alice")
    late = client.post(other_path, data={"t": other_token, "pin": "1357"})
    assert late.status_code == 403 and said(late, "done-title") == "Holding statement #1 has been switched on"
    assert said(late, "what-happened").startswith("bob switched on holding statement #1 (“Login problems”) "
                                                  "with an emailed link at ")
    assert said(late, "to-do") == "Nothing more is needed from you. The incident's authors write the next update."


def test_a_wrong_pin_switches_nothing_on_shows_the_form_again_and_three_revoke_the_link(calm, client):
    settings, sid, _, sent = calm
    path, token = link_of(sent, "bob")
    first = client.post(path, data={"t": token, "pin": "0000"})
    assert first.status_code == 403
    assert said(first, "problem") == (  # in the reader's words, not "wrong PIN for bob: 2 tries left"
        f"That PIN was not right, so nothing was switched on. This link stops working after 2 more wrong PINs; "
        f"if it does, {BY_TEXT}.")
    form = pin_form(first.text)  # on a phone in an outage: the PIN field again, not a page to go Back from
    assert form and f'value="{token}"' in form and "autofocus" in form
    assert "We are aware of problems logging in" in first.text
    action, detail = last_audit(settings)
    assert action == "refused: activate holding by link" and "wrong PIN for bob" in detail["reason"]
    second = client.post(path, data={"t": token, "pin": "0001"})
    assert pin_form(second.text) and said(second, "problem") == (
        f"That PIN was not right, so nothing was switched on. This link stops working after one more wrong PIN; "
        f"if it does, {BY_TEXT}.")
    third = client.post(path, data={"t": token, "pin": "0002"})
    assert pin_form(third.text) is None
    assert said(third, "done-title") == "This holding link was closed after 3 wrong PINs"
    right = client.post(path, data={"t": token, "pin": "4821"})
    assert said(right, "done-title") == "This holding link was closed after 3 wrong PINs"
    assert said(right, "where-it-stands") == READY
    assert said(right, "to-do").startswith("To switch it on now, text HOLD 1 and your PIN")
    assert state(settings, sid) == "approved"


def test_a_switch_on_that_publishing_refuses_does_not_use_the_link_up(calm, client):
    """The link's checks pass, the PIN is right, but publish refuses (here: the approval's seal no longer
    verifies): nothing goes live, the page says why with the PIN field, and the link still works."""
    settings, sid, _, sent = calm
    with transaction(settings.database_url) as s:
        seal = s.scalar(select(Approval.seal).where(Approval.statement_id == sid))
        s.execute(update(Approval).where(Approval.statement_id == sid).values(seal="0" * 64))
    path, token = link_of(sent, "bob")

    refused = client.post(path, data={"t": token, "pin": "4821"})

    assert refused.status_code == 403 and pin_form(refused.text)
    assert said(refused, "problem") == (  # not "statement 1 (v1 of incident 1): approval 1 has no valid seal ..."
        "Your PIN was right, but nothing was switched on: a check Broadcaster makes before anything goes out "
        "stopped it. The person who runs Broadcaster can see why in the audit trail; once that is put right, "
        "this same link can switch it on.")
    assert "has no valid seal" in last_audit(settings)[1]["reason"]  # the why, for whoever reads the audit trail
    assert state(settings, sid) == "approved"
    assert {link["user"]: link["state"] for link in emailed_links.list_links(settings, [1])}["bob"] == "valid"
    with transaction(settings.database_url) as s:  # the cause fixed: the same link switches it on
        s.execute(update(Approval).where(Approval.statement_id == sid).values(seal=seal))
    switched = client.post(path, data={"t": token, "pin": "4821"})
    assert switched.status_code == 200 and "Switched on" in switched.text and state(settings, sid) == "published"



def test_a_wrong_pin_tells_someone_without_a_phone_or_a_password_whom_to_ask(calm, client):
    path, token = link_of(calm[3], "alice")
    page = client.post(path, data={"t": token, "pin": "0000"})
    assert said(page, "problem") == (
        "That PIN was not right, so nothing was switched on. This link stops working after 2 more wrong PINs; "
        "if it does, ask the person who runs Broadcaster for a fresh link.")


def texted_wrong_pins(settings, count: int) -> None:
    """`count` texts of `HOLD 1` with a wrong PIN from bob's phone: PIN tries count by SMS and link together."""
    for n in range(count):
        assert holding_statements.activate_by_sms(settings, BOB_PHONE, "HOLD 1 0000", f"SM{n}")[0] == "wrong_pin"


def retry_words(settings, page) -> str:
    """The page's 'try again at ...': the time the per-person PIN limit has room again, and in how long."""
    with transaction(settings.database_url) as s:
        bob = s.scalar(select(User.id).where(User.name == "bob"))
    _, at = limit_window(settings, settings.pin_rate_per_user, "pin", f"user:{bob}")
    words = said(page, "problem")
    assert re.search(r"[Tt]ry again at (tomorrow at )?\d\d:\d\d UTC \(in 60 minutes\)", words), words  # 5/hour
    assert f"{at:%H:%M} UTC (in 60 minutes)" in words, words
    return words


def test_over_the_pin_limit_the_page_says_when_to_try_again_and_the_link_loses_no_try(calm, client):
    """Five PIN tries an hour per person (BROADCASTER_PIN_RATE_PER_USER), by text and link together: over it,
    the PIN is not checked, so even the right one switches nothing on, and the link's three tries stand."""
    settings, sid, _, sent = calm
    texted_wrong_pins(settings, 5)
    path, token = link_of(sent, "bob")

    page = client.post(path, data={"t": token, "pin": "4821"})

    assert page.status_code == 403 and pin_form(page.text) and state(settings, sid) == "approved"
    words = retry_words(settings, page)
    assert words.startswith("Too many PIN tries for now, so this PIN was not checked and nothing was switched on. "
                            "Try again at ")
    assert words.endswith(": this link still works, and still takes 3 wrong PINs before it stops.")
    assert [link["pin_failures"] for link in emailed_links.list_links(settings, [1]) if link["user"] == "bob"] == [0]


def test_a_wrong_pin_that_was_the_last_try_for_now_says_when_to_try_again(calm, client):
    settings, _, _, sent = calm
    texted_wrong_pins(settings, 4)
    path, token = link_of(sent, "bob")

    page = client.post(path, data={"t": token, "pin": "0000"})

    words = retry_words(settings, page)
    assert words.startswith("That PIN was not right, so nothing was switched on. That was the last PIN try for now: "
                            "try again at ")
    assert words.endswith(f"). This link stops working after 2 more wrong PINs; if it does, {BY_TEXT}.")


def test_with_no_twilio_number_the_page_offers_no_hold_text(calm):
    """Without BROADCASTER_TWILIO_AUTH_TOKEN no text to the Broadcaster number is read: the page must not send
    bob to one (he has a phone, no password), but to the person who runs Broadcaster."""
    from fastapi.testclient import TestClient

    from broadcaster.web.app import create_app

    settings, _, _, sent = calm
    path, token = link_of(sent, "bob")
    with TestClient(create_app(settings.model_copy(update={"twilio_auth_token": None}))) as client:
        page = client.post(path, data={"t": token, "pin": "0000"})
    assert said(page, "problem") == ("That PIN was not right, so nothing was switched on. This link stops working "
                                     "after 2 more wrong PINs; if it does, ask the person who runs Broadcaster for a "
                                     "fresh link.")


def test_a_press_refused_before_its_pin_was_checked_does_not_say_the_pin_was_right(calm, client, monkeypatch):
    """Another press holding the link (a double tap) is refused before the PIN is looked at; if the link is
    free again by the time the page is drawn, the page must not claim the PIN was right."""
    from broadcaster.domain.errors import NotAllowed

    settings, sid, _, sent = calm
    path, token = link_of(sent, "bob")

    def held(*args, **kwargs):
        raise NotAllowed("this link has already been used")
    monkeypatch.setattr(emailed_links, "activate_by_link", held)
    page = client.post(path, data={"t": token, "pin": "4821"})
    assert pin_form(page.text) and "PIN was right" not in page.text
    assert said(page, "problem").startswith("Nothing was switched on by this press")
    assert state(settings, sid) == "approved"
