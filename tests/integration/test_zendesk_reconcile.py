"""The Zendesk macro after an outcome nobody knows, through the real engine in this process (publish, claim,
record, the sweep's reconciliation) against the Zendesk fake: a create that Zendesk saved but never
answered is found by reconciliation and recorded `sent` with the macro's id, and one that Zendesk never
saved is resent once; either way the incident has one macro."""

import pytest
from sqlalchemy import select

from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import publishing
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery
from tests.conftest import actor, make_settings
from tests.fakes.zendesk import SAVED_THEN_DROPPED, FakeZendesk
from tests.integration.engine import approved_statement


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the embedded default: reconciliation under this process's own lock


@pytest.fixture
def zendesk():
    with FakeZendesk() as fake:
        yield fake


def zendesk_delivery(settings, sid) -> Delivery:
    with transaction(settings.database_url) as s:
        return s.scalar(select(Delivery).where(Delivery.statement_id == sid, Delivery.channel == "zendesk"))


@pytest.mark.parametrize("saved", [True, False], ids=["saved-unanswered", "never-saved"])
def test_an_unknown_create_is_reconciled_into_one_macro(database_url, zendesk, saved):
    settings = make_settings(database_url, **zendesk.settings(), provider_timeout_seconds=5)
    sid = approved_statement(settings)
    zendesk.fail_next(SAVED_THEN_DROPPED if saved else 502, write=True)
    published = publishing.publish(settings, actor(settings, "alice"), sid, dispatch=send_now)
    delivery = zendesk_delivery(settings, sid)
    assert delivery.status == "unknown", (delivery.status, delivery.error_message)
    assert len(zendesk.macros) == (1 if saved else 0)

    sweeping.reconcile(settings)
    delivery = zendesk_delivery(settings, sid)
    if saved:  # Zendesk has it: recorded as sent, with the macro's id, and nothing resent
        (macro,) = zendesk.macros.values()
        assert delivery.status == "sent" and delivery.provider_message_id == str(macro["id"])
        assert len(zendesk.writes) == 1
    else:  # Zendesk never saved it: sent again, once
        assert delivery.status == "retry", delivery.status
        send_now(settings, [delivery.id])
        (macro,) = zendesk.macros.values()
        assert zendesk_delivery(settings, sid).provider_message_id == str(macro["id"])
    assert zendesk_delivery(settings, sid).status == "sent"
    assert macro["description"].endswith(f"sha256 {published['content_hash']}")
