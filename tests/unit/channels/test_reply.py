"""The reply channel's transport: only approved words, only to posts that mention the account."""

import pytest

from broadcaster.channels import TransportError, channel
from broadcaster.channels.reply import words_for
from broadcaster.config import Settings
from broadcaster.domain.hashing import sha256_of

FIELDS = {"variant1": "one", "variant2": "two", "variant3": "three"}


def test_the_chosen_variant_goes_first_then_the_others_in_rotation():
    assert words_for(FIELDS, {"lane": "mention", "variant": 2}) == [("two", "variant2"), ("three", "variant3"),
                                                                     ("one", "variant1")]


@pytest.mark.parametrize(("details", "code"), [
    ({}, "no-ledger"),
    ({"lane": "human_only", "variant": 1}, "human-only"),
    ({"lane": "mention", "variant": 9}, "no-variant"),
    ({"lane": "mention", "custom_text": "hello", "approved_hash": None}, "not-approved"),
    ({"lane": "mention", "custom_text": "hello, edited", "approved_hash": sha256_of("hello")}, "not-approved"),
])
def test_words_that_may_not_go_are_a_permanent_refusal(details, code):
    with pytest.raises(TransportError) as refused:
        words_for(FIELDS, details)
    assert (refused.value.permanent, refused.value.code) == (True, code)


def test_approved_free_text_goes_as_approved():
    assert words_for(FIELDS, {"lane": "mention", "custom_text": "hello", "approved_hash": sha256_of("hello")}) == [
        ("hello", f"approved free text {sha256_of('hello')[:12]}")]


def test_each_variant_is_checked_against_x_s_weighted_length():
    checks = list(channel("reply").limits({"variant1": "a" * 281, "variant2": "ok"}, Settings(_env_file=None)))
    assert [(c.name, c.ok) for c in checks] == [("variant1 weighted length", False), ("variant2 weighted length", True)]


def test_the_reply_channel_is_delivered_on_demand_not_at_publish():
    assert not channel("reply").delivered_at_publish and channel("x").delivered_at_publish
