"""A holding link that no longer switches anything on, opened by an executive with no dashboard password,
on a phone (390×844) and a laptop (1280×900): after three wrong PINs typed on the page, expired, after
someone else switched the statement on by text (live, the status page showing it), mangled, and sent to
an address that is no longer theirs. Each says what happened in the first screen of a phone, offers no
dashboard link, and axe-core finds no serious or critical violation. Screenshots: hold-refused-*.png."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from broadcaster.holding import emailed_links, holding_statements
from broadcaster.holding.holding_link_story import link_story
from broadcaster.store.access_models import HoldingLink
from broadcaster.store.db import transaction
from broadcaster.store.models import User, utcnow
from tests.conftest import actor, add_subscriber, add_user
from tests.e2e.conftest import accessible, in_first_screen, keep_screenshots
from tests.integration.holding_data import approved_holding_statement

READY = "Holding statement #1 (“Login problems”) is not live: it is still ready to be switched on."
SIZES = {"phone": {"width": 390, "height": 844}, "wide": {"width": 1280, "height": 900}}


@pytest.fixture
def embedded_env() -> dict[str, str]:
    # Texts to the Twilio number are read (signed with this token): the pages may offer HOLD by text.
    return {"BROADCASTER_TWILIO_AUTH_TOKEN": "twilio-auth-token"}


def kept_with_links(settings) -> tuple[int, dict[str, str]]:
    """Holding statement #1 kept, and the path (with its token) of each person's emailed link."""
    add_user(settings, "alice", ["author"], email="alice@example.com", phone="+14155550141")
    add_user(settings, "bob", ["approver"], email="bob@example.com", phone="+14155550142")
    holding_statements.set_pin(settings, "alice", "1357")
    holding_statements.set_pin(settings, "bob", "4821")
    add_subscriber(settings, email="customer@example.com")
    number = holding_statements.keep(settings, actor(settings, "alice"), approved_holding_statement(settings))["number"]
    sent = emailed_links.send_links(settings, actor(settings, "alice"), number)
    return number, {one.user: one.url.split("/hold/", 1)[1] for one in sent["sent"]}


def look(browser, base: str, path: str, shots, name: str) -> dict[str, str]:
    """The page at both sizes: screenshots, axe, and what the phone shows; returns its parts' words."""
    words = {}
    for size, viewport in SIZES.items():
        page = browser.new_context(viewport=viewport, is_mobile=size == "phone").new_page()
        page.goto(f"{base}/hold/{path}")
        assert page.locator("main a[href^='/dashboard']").count() == 0  # bob has no dashboard password
        if size == "phone":
            for part in ("#done-title", "#what-happened", "#to-do"):
                assert in_first_screen(page, part), f"{name}: {part} is not in the first screen of a phone"
            words = {part: " ".join(page.text_content(f"#{part}").split())
                     for part in ("done-title", "what-happened", "where-it-stands", "to-do")
                     if page.locator(f"#{part}").count()}
        page.screenshot(path=str(shots / f"hold-refused-{name}-{size}.png"))
        accessible(page, f"the holding link's page: {name}, {size}")
        page.context.close()
    keep_screenshots(shots, *(f"hold-refused-{name}-{size}.png" for size in SIZES))
    return words


def test_a_closed_holding_link_says_what_happened_and_what_to_do_without_a_password(embedded, browser, serve_app,
                                                                                    tmp_path):
    from broadcaster.web.app import create_app

    settings = embedded
    number, links = kept_with_links(settings)
    base = serve_app(create_app(settings)).url
    shots = tmp_path / "screenshots"
    shots.mkdir()

    phone = browser.new_context(viewport=SIZES["phone"], is_mobile=True).new_page()
    phone.goto(f"{base}/hold/{links['bob']}")
    for wrong in ("0000", "0001", "0002"):  # typed on the page, as someone who forgot it would
        phone.fill("#pin", wrong)
        phone.click("#switch-on")
        phone.wait_for_selector("#done-title, #problem")
        if wrong == "0000":  # the page again: why, what is left, what then, and the PIN field, in the first screen
            said = " ".join(phone.text_content("#problem").split())
            assert said == ("That PIN was not right, so nothing was switched on. This link stops working after 2 more "
                            f"wrong PINs; if it does, text HOLD {number} and your PIN (for example HOLD {number} 1234) "
                            f"to the {settings.company_name} Broadcaster number from your registered phone.")
            for part in ("#problem", "#pin", "#switch-on"):
                assert in_first_screen(phone, part), f"the wrong PIN's page: {part} is not in the first screen"
            phone.screenshot(path=str(shots / "hold-wrong-pin-phone.png"))
            accessible(phone, "the holding link's page after a wrong PIN, phone")
            phone.set_viewport_size(SIZES["wide"])
            phone.screenshot(path=str(shots / "hold-wrong-pin-wide.png"))
            accessible(phone, "the holding link's page after a wrong PIN, wide")
            phone.set_viewport_size(SIZES["phone"])
    assert phone.text_content("#done-title") == "This holding link was closed after 3 wrong PINs"
    phone.context.close()
    keep_screenshots(shots, "hold-wrong-pin-phone.png", "hold-wrong-pin-wide.png")
    locked = look(browser, base, links["bob"], shots, "pin-locked")
    assert locked["where-it-stands"] == READY
    assert locked["to-do"].startswith(f"To switch it on now, text HOLD {number} and your PIN")

    with transaction(settings.database_url) as s:
        s.execute(update(HoldingLink).values(expires_at=utcnow() - timedelta(minutes=5)))
    fresh = emailed_links.send_links(settings, actor(settings, "bob"), number, ["bob"])["sent"][0]
    with transaction(settings.database_url) as s:  # the fresh one expired too: `log` email left the old one valid
        s.execute(update(HoldingLink).values(expires_at=utcnow() - timedelta(minutes=5)))
    expired = look(browser, base, fresh.url.split("/hold/", 1)[1], shots, "expired")
    assert expired["done-title"] == "This holding link has expired"

    holding_statements.activate(settings, actor(settings, "alice"), number, via="sms")  # the worker sends it
    deadline = time.monotonic() + 60
    while (link_story(settings, *_id_and_token(fresh.url)) or {}).get("public_shows") != 1:
        assert time.monotonic() < deadline, "the status page was never sent holding statement #1"
        time.sleep(0.2)
    live = look(browser, base, fresh.url.split("/hold/", 1)[1], shots, "live")
    assert live["done-title"] == f"Holding statement #{number} has been switched on"
    assert live["what-happened"].startswith(f"alice switched on holding statement #{number} (“Login problems”) "
                                            "by text message at ")
    assert live["where-it-stands"] == "It is live now. The status page shows it."

    mangled = look(browser, base, links["bob"][:-4] + "0000", shots, "mangled")
    assert mangled["done-title"] == "This holding link does not work" and "Login problems" not in str(mangled)

    with transaction(settings.database_url) as s:
        s.execute(update(User).where(User.name == "bob").values(email="bob@new.example.com"))
    moved = look(browser, base, fresh.url.split("/hold/", 1)[1], shots, "not-theirs")
    assert moved["done-title"] == "This holding link cannot be used" and "Login problems" not in str(moved)


def _id_and_token(url: str) -> tuple[int, str]:
    path, token = url.split("/hold/", 1)[1].split("?t=")
    return int(path), token
