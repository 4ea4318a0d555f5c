"""What an approver reads on an approval link's page once it no longer approves, and after approving: what
became of the version (who decided, when), whether it has gone out and where the public reads it, what is
left to do, and only links that work for them (the dashboard only for an approver with a password)."""

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from broadcaster.approvals import by_phone, decisions
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people.auth import set_password
from broadcaster.store.access_models import ApprovalRequest
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, User, utcnow
from broadcaster.web.app import create_app
from tests.conftest import actor, add_user, make_settings
from tests.integration.approval_data import submitted_v1

STATUS_PAGE = "https://status.acme.example"
PARTS = ("done-title", "what-happened", "where-it-stands", "to-do")


@pytest.fixture
def settings(database_url, fake):
    """An installation that can email (SendGrid's SDK, to the fake provider): approval links are emailed."""
    return make_settings(database_url, status_page_url=STATUS_PAGE, secret_key="s" * 40, sendgrid_api_key="SG.test",
                         sendgrid_host=fake.url, sendgrid_rate="100000/second")


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def waiting(settings):
    """v1 of "Login failures" by alice, waiting for one approval; bob (no password) and carol approve."""
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com")
    add_user(settings, "carol", ["approver"], email="carol@example.com")
    return submitted_v1(settings)


def link(settings, statement_id: int, who: str = "bob") -> tuple[str, str]:
    url = by_phone.mint_link(settings, actor(settings, who), statement_id)["url"]
    path, token = url.split("/approve/", 1)[1].split("?t=")
    return f"/approve/{path}", token


def said(response) -> dict[str, str]:
    """Each part of the page (by id) as one line of plain text."""
    found = {}
    for part in PARTS:
        match = re.search(rf'id="{part}"[^>]*>(.*?)</(?:h1|p)>', response.text, re.S)
        found[part] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""
    return found


def links(response) -> list[str]:
    main = response.text.split('<main id="main">', 1)[1]
    return re.findall(r'<a [^>]*href="([^"]+)"', main)


def test_a_used_link_says_who_approved_when_and_that_it_is_not_out_yet(settings, client, waiting):
    path, token = link(settings, waiting)
    client.post(path, data={"t": token})
    page = client.get(f"{path}?t={token}")
    words = said(page)
    assert page.status_code == 403 and words["done-title"] == "You approved v1 of “Login failures”"
    assert re.fullmatch(r"You approved it at \w{3}, \w{3} \d+, \d\d:\d\d UTC\.", words["what-happened"])
    assert words["where-it-stands"].startswith("It is not published yet: alice or another author publishes it")
    assert words["to-do"] == "Nothing more is needed from you."
    assert links(page) == []  # no dashboard for bob (no password), and nothing public to see yet


def test_a_used_link_after_publishing_says_it_went_out_and_where(settings, client, waiting):
    path, token = link(settings, waiting)
    client.post(path, data={"t": token})
    publishing.publish(settings, actor(settings, "alice"), waiting, dispatch=send_now)
    page = client.get(f"{path}?t={token}")
    words = said(page)
    assert words["done-title"] == "You approved v1 of “Login failures”"
    assert re.fullmatch(r"It was published at .+ UTC\. The status page shows it now\.", words["where-it-stands"])
    assert links(page) == [STATUS_PAGE]


def test_a_used_link_says_the_status_page_has_not_taken_it_when_that_send_failed_for_good(settings, client, waiting):
    path, token = link(settings, waiting)
    client.post(path, data={"t": token})
    publishing.publish(settings, actor(settings, "alice"), waiting, dispatch=lambda *_args, **_kw: None)
    assert said(client.get(f"{path}?t={token}"))["where-it-stands"].endswith(
        "It is not on the status page yet: it is on its way.")  # published, not sent yet
    with transaction(settings.database_url) as s:
        s.execute(update(Delivery).where(Delivery.statement_id == waiting, Delivery.channel == "status_page")
                  .values(status="failed"))
    words = said(client.get(f"{path}?t={token}"))
    assert re.fullmatch(r"It was published at .+ UTC\. It is not on the status page: sending it there failed\. The "
                        r"comms team sees this on the dashboard's Consistency page\.", words["where-it-stands"]), words


def test_the_page_after_approving_offers_the_dashboard_only_to_who_can_log_in(settings, client, waiting):
    path, token = link(settings, waiting)
    approved = client.post(path, data={"t": token})
    assert "Approved: v1" in approved.text and said(approved)["to-do"].startswith("Nothing more is needed from you")
    assert links(approved) == []  # bob has no password
    set_password(settings, "carol", "correct horse battery")
    statements.withdraw(settings, actor(settings, "alice"), waiting)
    alice = actor(settings, "alice")
    again = statements.draft(settings, alice, statements.get_statement(settings, waiting)["incident_id"],
                             StatementInput(headline="Logins fail", body="We are rolling back.", next_update="30m"))
    statements.submit(settings, alice, again["id"])
    path, token = link(settings, again["id"], "carol")
    assert links(client.post(path, data={"t": token})) == [f"/dashboard/statements/{again['id']}"]


def test_a_used_link_after_rejecting_says_nothing_went_out(settings, client, waiting):
    path, token = link(settings, waiting)
    client.post(path, data={"t": token, "decision": "reject", "comment": "The cause is not confirmed"})
    words = said(client.get(f"{path}?t={token}"))
    assert words["done-title"] == "You rejected v1 of “Login failures”"
    assert words["where-it-stands"].startswith("Nothing of it was published. alice can write a new version")
    assert words["to-do"] == "Nothing more is needed from you."


def test_a_replaced_versions_link_names_the_new_version_and_that_nothing_went_out(settings, client, waiting):
    path, token = link(settings, waiting)
    statements.edit(settings, actor(settings, "alice"), waiting, StatementInput(headline="Logins fail"))
    page = client.get(f"{path}?t={token}")
    words = said(page)
    assert page.status_code == 403 and words["done-title"] == "Version 1 of “Login failures” was replaced by v2"
    assert words["what-happened"] == "Nobody has approved v1 of “Login failures”."
    assert "nothing of v1 was sent. If v2 needs your approval, you get a request of its own" in words["where-it-stands"]
    assert words["to-do"] == "Nothing more is needed from you." and links(page) == []


def test_a_withdrawn_versions_link_says_it_was_never_sent(settings, client, waiting):
    path, token = link(settings, waiting)
    statements.withdraw(settings, actor(settings, "alice"), waiting)
    words = said(client.post(path, data={"t": token}))
    assert words["done-title"] == "Version 1 of “Login failures” was withdrawn"
    assert words["where-it-stands"] == "It was withdrawn before it was published: nothing of it was sent."
    assert words["to-do"] == "Nothing more is needed from you."


def test_a_link_opened_after_another_approver_decided_says_who(settings, client, waiting):
    path, token = link(settings, waiting)
    decisions.approve(settings, actor(settings, "carol"), waiting)
    words = said(client.get(f"{path}?t={token}"))
    assert words["done-title"] == "Version 1 of “Login failures” has been approved"
    assert words["what-happened"].startswith("carol approved it at ")
    assert words["to-do"] == "Nothing more is needed from you."


@pytest.mark.parametrize("has_password", [False, True])
def test_an_expired_link_says_when_and_how_to_approve_now(settings, client, waiting, has_password):
    if has_password:
        set_password(settings, "bob", "correct horse battery")
    path, token = link(settings, waiting)
    with transaction(settings.database_url) as s:
        s.execute(update(ApprovalRequest).values(expires_at=utcnow() - timedelta(minutes=5)))
    page = client.get(f"{path}?t={token}")
    words = said(page)
    assert page.status_code == 403 and words["done-title"] == "This approval link has expired"
    assert re.fullmatch(r"It expired at .+ UTC: links work for 2 hours\. Nobody has approved v1 of “Login failures”\.",
                        words["what-happened"])
    assert words["where-it-stands"] == "It is still waiting for approval, and nothing of it has been published."
    if has_password:
        assert words["to-do"] == "To approve it now, open it in the dashboard."
        assert links(page) == [f"/dashboard/statements/{waiting}"]
    else:
        assert words["to-do"] == "To approve it now, have a new link emailed to the address we have for you."
        assert links(page) == [] and f'action="{path}/renew"' in page.text
    assert (f'action="{path}/renew"' in page.text) is not has_password  # a password: the dashboard instead


def new_links_for(settings, who: str) -> list[ApprovalRequest]:
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(ApprovalRequest).join(User, User.id == ApprovalRequest.user_id).where(
            User.name == who, ApprovalRequest.kind == "email", ApprovalRequest.expires_at > utcnow())))


def emails_to(settings, address: str) -> int:
    with transaction(settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(Delivery).where(Delivery.target == address,
                                                                          Delivery.channel == "email"))


def test_an_expired_link_emails_a_fresh_one_to_the_approvers_own_address_a_few_times_and_says_the_same(
        settings, client, waiting):
    client.app.state.dispatch = lambda settings, ids: None  # written to the send log; no broker here
    path, token = link(settings, waiting)
    with transaction(settings.database_url) as s:
        s.execute(update(ApprovalRequest).values(expires_at=utcnow() - timedelta(minutes=5)))
    before = emails_to(settings, "bob@example.com")
    pages = [client.post(f"{path}/renew", data={"t": token}) for _ in range(4)]
    assert {page.status_code for page in pages} == {200}
    assert {said(page)["done-title"] for page in pages} == {"Check your email"}
    assert len({said(page)["what-happened"] for page in pages}) == 1  # the 4th, over the limit, reads the same
    fresh = new_links_for(settings, "bob")
    assert len(fresh) == 3 and emails_to(settings, "bob@example.com") == before + 3  # 3/hour, to bob's own address
    assert {r.statement_id for r in fresh} == {waiting}

    forged = client.post(f"{path}/renew", data={"t": token[:-6] + "abcdef"})
    assert forged.status_code == 403 and said(forged)["done-title"] == "This approval link does not work"
    assert len(new_links_for(settings, "bob")) == 3


def test_a_fresh_link_is_not_sent_for_a_link_still_valid_or_a_version_that_no_longer_waits(settings, client, waiting):
    client.app.state.dispatch = lambda settings, ids: None
    path, token = link(settings, waiting)
    valid = client.post(f"{path}/renew", data={"t": token})  # not expired: it still works, nothing to renew
    assert said(valid)["done-title"] == "Check your email" and len(new_links_for(settings, "bob")) == 1
    decisions.approve(settings, actor(settings, "carol"), waiting)
    with transaction(settings.database_url) as s:
        s.execute(update(ApprovalRequest).values(expires_at=utcnow() - timedelta(minutes=5)))
    page = client.get(f"{path}?t={token}")
    assert "/renew" not in page.text  # approved by carol: no button
    late = client.post(f"{path}/renew", data={"t": token})
    assert said(late)["done-title"] == "Check your email" and new_links_for(settings, "bob") == []


def test_a_mangled_link_says_what_to_do_and_nothing_about_the_statement(settings, client, waiting):
    path, token = link(settings, waiting)
    for page in (client.get(f"{path}?t={token[:-6]}"), client.post(path, data={"t": token[:-6]})):
        words = said(page)
        assert page.status_code == 403 and words["done-title"] == "This approval link does not work"
        assert words["to-do"].startswith("Open the link again from the email by tapping it.")
        assert "Login failures" not in page.text and links(page) == []
    assert statements.get_statement(settings, waiting)["state"] == "pending_approval"


def test_with_no_email_provider_an_expired_link_offers_no_email_and_the_renew_page_says_none_was_sent(
        database_url):
    """The `log` provider (no email provider set up, the embedded default) sends nothing and logs each email
    with its link hidden: no page may promise an email, or offer one."""
    settings = make_settings(database_url, status_page_url=STATUS_PAGE, secret_key="s" * 40)
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com")
    path, token = link(settings, submitted_v1(settings))
    with transaction(settings.database_url) as s:
        s.execute(update(ApprovalRequest).values(expires_at=utcnow() - timedelta(minutes=5)))
    with TestClient(create_app(settings)) as client:
        client.app.state.dispatch = send_now
        expired = client.get(f"{path}?t={token}")
        renewed = client.post(f"{path}/renew", data={"t": token})  # a page loaded before, or a stale tab
    assert said(expired)["to-do"] == ("To approve it now, ask the person who runs Broadcaster for a new link: this "
                                      "Broadcaster has no email provider set up yet, so it cannot email you one.")
    assert "/renew" not in expired.text and "emailed" not in expired.text
    words = said(renewed)
    assert renewed.status_code == 200 and words["done-title"] == "No email was sent"
    assert words["what-happened"] == ("This Broadcaster has no email provider set up yet, so it sends no email: "
                                      "no new approval link is on its way to you.")
    assert words["to-do"] == ("If this version still waits for your approval, ask the person who runs Broadcaster "
                              "for a new link: they can make one on the server ( broadcaster approval link ) and "
                              "pass it to you.")
    assert "Check your email" not in renewed.text


def test_a_links_story_is_told_at_one_moment(settings, waiting, monkeypatch):
    """Whether the link has expired and the "now" its page tells times against are one reading of the
    clock: read twice, a link expiring between them was told as working on a page already past it."""
    from broadcaster.approvals import link_story

    path, token = link(settings, waiting)
    request_id = int(path.split("/")[2])
    with transaction(settings.database_url) as s:
        expires = s.get(ApprovalRequest, request_id).expires_at
    readings = iter([expires - timedelta(milliseconds=1)])  # the clock ticks past the expiry as the story is read
    monkeypatch.setattr(link_story, "utcnow", lambda: next(readings, expires + timedelta(milliseconds=1)))
    story = link_story.link_story(settings, request_id, token)
    assert (story["expired"], story["now"] >= story["expires_at"]) == (False, False)
