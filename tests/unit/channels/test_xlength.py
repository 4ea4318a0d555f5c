"""X's weighted length without twitter-text's cost: the same number as `parse_tweet` for every text."""

from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet
from twitter_text.regexp.emoji import emoji_list

from broadcaster.channels._xlength import weighted_length

EMOJI = [e.emoji for e in emoji_list]
PIECES = [
    "Sorry for the trouble. ", "Updates: https://status.example.com", " example.com/path?q=1 ", "t.co/abc123",
    "http://日本語.jp/", "ログインできません。", "一部のお客様", "é", "e\u0301", "ñ", "©", "®", "™", "‼", "#", "*", "1",
    "\ufe0f", "\u20e3", "\u200d", "\U0001f3fd", "\r\n", "\r", "\n", " ", ".", "–", "\u2019", "\u2032", "\U0001f525",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.sampled_from(EMOJI) | st.text(max_size=4), max_size=40).map("".join))
def test_the_same_number_as_twitter_text(text):
    assert weighted_length(text) == parse_tweet(text).weightedLength


def test_every_emoji_twitter_text_knows_counts_as_it_does():
    # Beside letters, digits (keycap bases) and each other: every sequence, fully qualified or not.
    for i in range(0, len(EMOJI), 40):
        text = "a1#" + " x".join(EMOJI[i:i + 40]) + "2*"
        assert weighted_length(text) == parse_tweet(text).weightedLength, EMOJI[i:i + 40]


def test_what_the_count_means():
    assert weighted_length("hello") == 5
    assert weighted_length("Updates: https://status.example.com/incidents/1") == 9 + 23  # a URL counts 23
    assert weighted_length("ログイン") == 8  # CJK counts 2
    assert weighted_length("👩\u200d👩\u200d👧 ok") == 5  # one emoji of five code points counts 2
    assert weighted_length("1\ufe0f\u20e3") == 2  # a keycap is an emoji, its digit is not a character of its own
    assert weighted_length("©") == 2 and weighted_length("é") == 1
