"""The texts our number sends back (approval codes, holding statements): each fits one SMS of plain
GSM-7 characters, however long its filled parts get, so a phone never shows half a reply or a reply
split in two, and no carrier bills two segments for one answer."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from broadcaster.channels.sms import sms_segments
from broadcaster.web.public.phone import _words
from tests.conftest import make_settings

TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "_web"
REPLIES = sorted(str(p.relative_to(TEMPLATES)) for folder in ("approval", "holding")
                 for p in (TEMPLATES / folder).glob("reply_*.txt"))
LATEST = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)  # the widest time and date the clock says


@pytest.mark.parametrize("name", REPLIES)
@pytest.mark.parametrize("tries_left", [4, 1, 0])
@pytest.mark.parametrize("why", ["missing", "published", "superseded", "refused", "pending_approval"])
@pytest.mark.parametrize("emails", [True, False])
def test_every_reply_fits_one_plain_text_message(name, tries_left, why, emails):
    settings = make_settings("sqlite://", company_name="Example Telecommunications Co", timezone="America/Los_Angeles")
    said = _words(settings, name, tz=settings.zone, now=LATEST, gsm=True, tries_left=tries_left, retry_at=LATEST,
                  by_email=True, number=999999, why=why, emails=emails)  # a holding statement's number: up to 6 digits
    assert said and sms_segments(said) == 1, (len(said), said)
    assert said.isascii(), said  # plain GSM-7: a curly quote or a dash would make it UCS-2, 70 characters
