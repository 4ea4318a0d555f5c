"""X's weighted length without twitter-text's cost: the same number as `parse_tweet` for every text."""

from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet
from twitter_text.extract_urls import extract_urls_with_indices
from twitter_text.regexp.emoji import emoji_list

from broadcaster.channels._xlength import _urls, weighted_length

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


# What a URL's edges are made of: the characters that may or may not precede one, end one or stop its
# domain, so that searching only the words with a dot finds what the whole text finds.
URL_PIECES = [
    "https://", "http://", "HTTPS://", "status.example.com", "example.com", "a.b", "x.co", "t.co/", "abc123",
    "xn--p1ai", "日本語.jp", ".", "..", ". ", "-", "_", "/", "@", "＠", "#", "$", ":", ":8080", "?q=1&x=2", "(a)",
    ")", "'", "é", "。", "：", " ", "\n", "\t", "\u3000", "\u00a0", "\u202a", "\u200e", "\ufeff", "com", "jp",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(URL_PIECES) | st.text(max_size=3), max_size=30).map("".join))
def test_urls_are_found_where_twitter_text_finds_them(text):
    found = {entity["indices"][0]: len(entity["url"]) for entity in extract_urls_with_indices(text)}
    assert _urls(text) == found


def test_the_emoji_list_read_without_pkg_resources_is_the_one_it_reads():
    # `_twitter_text` gives twitter-text a stand-in for pkg_resources when it is imported first; the
    # real one is loaded here (twitter-text imported above), so both read the same file.
    import pkg_resources

    from broadcaster.channels._twitter_text import resource_string

    assert resource_string("twitter_text.regexp.emoji", "emoji-test.txt") == pkg_resources.resource_string(
        "twitter_text.regexp.emoji", "emoji-test.txt")
