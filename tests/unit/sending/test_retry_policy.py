import time
from datetime import timedelta

import pytest

from broadcaster.channels import SendContext, SendResult, Target, TransportError
from broadcaster.config import Settings
from broadcaster.delivery.lease_fence import ClaimLapsed, Fence
from broadcaster.delivery.provider_calls import backoff_seconds, call_with_quick_retries, failure_outcome
from broadcaster.store.models import Delivery, utcnow

SETTINGS = Settings(_env_file=None, backoff_base_seconds=30, backoff_cap_seconds=3600, max_attempts=5,
                    quick_retries=3, quick_retry_max_wait_seconds=0.05)
CONTEXT = SendContext(statement_id=1, incident_id=1, version=1)


class ScriptedTransport:
    """Fails with the given errors in turn, then succeeds."""

    provider, account, batch_size = "test", "test", 1

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def notify(self, fields, targets, context):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return [SendResult(t.delivery_id, "sent", "id-1") for t in targets]


def delivery(attempts: int) -> Delivery:
    return Delivery(id=7, statement_id=1, channel="sms", target="+14155550100", provider="twilio",
                    status="sending", attempts=attempts)


@pytest.mark.parametrize("attempts", [1, 2, 3, 6])
def test_backoff_doubles_per_attempt_with_jitter_and_a_cap(attempts):
    ceiling = min(3600, 30 * 2 ** (attempts - 1))
    samples = [backoff_seconds(SETTINGS, attempts) for _ in range(200)]
    assert all(ceiling / 2 <= s <= ceiling for s in samples)
    assert len(set(samples)) > 100  # jitter: retries do not land in the same second


def test_backoff_never_undercuts_the_providers_retry_after():
    assert backoff_seconds(SETTINGS, 1, retry_after=120) == 120


def test_permanent_error_fails_at_once_with_the_providers_code():
    outcome = failure_outcome(SETTINGS, delivery(1),
                              TransportError("not a valid phone number", permanent=True, code="21211"))
    assert (outcome.status, outcome.error_code, outcome.next_attempt_at) == ("failed", "21211", None)


def test_transient_error_waits_in_the_row_for_a_later_attempt():
    outcome = failure_outcome(SETTINGS, delivery(2), TransportError("HTTP 503", code="503"))
    assert outcome.status == "retry"
    assert utcnow() + timedelta(seconds=29) < outcome.next_attempt_at < utcnow() + timedelta(seconds=61)


def test_the_last_attempt_gives_up_and_says_so():
    outcome = failure_outcome(SETTINGS, delivery(5), TransportError("HTTP 503", code="503"))
    assert outcome.status == "failed" and "gave up after 5 attempts" in outcome.detail


def test_blips_are_retried_quickly_within_one_claim():
    transport = ScriptedTransport(TransportError("connection reset"), TransportError("HTTP 500"))
    results = call_with_quick_retries(SETTINGS, transport, {"text": "hi"}, [Target(1, "+1")], CONTEXT)
    assert transport.calls == 3 and results[0].status == "sent"


def test_a_permanent_error_is_not_retried_quickly():
    transport = ScriptedTransport(TransportError("invalid", permanent=True))
    with pytest.raises(TransportError):
        call_with_quick_retries(SETTINGS, transport, {"text": "hi"}, [Target(1, "+1")], CONTEXT)
    assert transport.calls == 1


def test_a_long_retry_after_goes_to_the_row_not_a_sleeping_worker():
    transport = ScriptedTransport(TransportError("slow down", retry_after=60))
    with pytest.raises(TransportError):
        call_with_quick_retries(SETTINGS, transport, {"text": "hi"}, [Target(1, "+1")], CONTEXT)
    assert transport.calls == 1


def test_quick_retries_stop_after_the_budget():
    transport = ScriptedTransport(*[TransportError("HTTP 500")] * 5)
    with pytest.raises(TransportError):
        call_with_quick_retries(SETTINGS, transport, {"text": "hi"}, [Target(1, "+1")], CONTEXT)
    assert transport.calls == 3


def test_a_claim_whose_lease_may_have_lapsed_sends_nothing_more():
    """A worker starved past its lease (the sweep may already have handed its rows to reconciliation)
    wakes up: its next provider call does not start, and the delivery waits in its row unattempted."""
    # A lease of 30 s, its renewals dated: with a lease of 0.2 s and real sleeps, a busy machine that ran
    # this thread a fraction of a second late saw the fence up where the test needed it down.
    fence = Fence(lease_seconds=30)
    assert not fence.is_set()
    fence.renewed(time.monotonic() - 30 + fence._margin - 0.02)  # renewed never since: within its margin
    assert fence.is_set()
    transport = ScriptedTransport()
    with pytest.raises(ClaimLapsed):  # send_batch hands its deliveries back to the queue, untried
        call_with_quick_retries(SETTINGS, transport, {"text": "hi"}, [Target(1, "+1")], CONTEXT, fence=fence)
    assert transport.calls == 0

    fence.renewed(time.monotonic())  # a renewal that went through: sending goes on
    assert not fence.is_set()
    assert call_with_quick_retries(SETTINGS, transport, {"text": "hi"}, [Target(1, "+1")], CONTEXT,
                                   fence=fence)[0].status == "sent"
    fence.set()  # the chunk's deadline
    assert fence.is_set()


def test_a_fence_allows_a_lease_less_its_margin():
    fence = Fence(lease_seconds=30)
    assert fence._margin == Fence.MARGIN and not fence.is_set()
    fence.renewed(time.monotonic() - 30 + Fence.MARGIN + 0.5)  # half a second left before the margin
    assert not fence.is_set()
    fence.renewed(time.monotonic() - 30 + Fence.MARGIN - 0.01)
    assert fence.is_set()


def test_a_lease_of_zero_fences_nothing():
    """`BROADCASTER_LEASE_SECONDS=0` (claims given up at once, as a test sets to have a sweep take
    over straight away) must not stop every send."""
    fence = Fence(lease_seconds=0)
    time.sleep(0.01)
    assert not fence.lapsed() and not fence.is_set()
