"""The fake X server, driven through tweepy as the code under test drives it."""

import pytest
import tweepy

from broadcaster.channels.x import _Session
from tests.fakes.x_server import ACCOUNT_ID, running_x


def client(url: str) -> tweepy.Client:
    c = tweepy.Client(consumer_key="ck", consumer_secret="cs", access_token="at", access_token_secret="ats")
    c.session = _Session(url)
    return c


def test_mentions_page_newest_first_and_resume_from_since_id():
    with running_x() as x:
        ids = [x.mention(f"@acme help {i}") for i in range(23)]
        x.stranger("login broken")
        c = client(x.url)
        seen, token = [], None
        while True:
            page = c.get_users_mentions(ACCOUNT_ID, max_results=10, pagination_token=token, user_auth=True,
                                        expansions=["author_id"])
            seen += [t.id for t in page.data]
            token = page.meta.get("next_token")
            if not token:
                break
        assert seen == sorted((int(i) for i in ids), reverse=True)
        newer = x.mention("@acme still down")
        page = c.get_users_mentions(ACCOUNT_ID, since_id=ids[-1], user_auth=True)
        assert [t.id for t in page.data] == [int(newer)]


def test_create_tweet_past_the_window_is_429_with_rate_headers():
    with running_x(window_posts=3, window_seconds=60) as x:
        c = client(x.url)
        c.return_type = __import__("requests").Response
        remaining = [c.create_tweet(text=f"post {i}").headers["x-rate-limit-remaining"] for i in range(3)]
        assert remaining == ["2", "1", "0"]
        with pytest.raises(tweepy.TooManyRequests) as caught:
            c.create_tweet(text="one too many")
        assert caught.value.reset_time is not None and x.rejected_429 == 1


def test_duplicate_text_is_403_and_reply_to_a_post_without_mention_is_refused():
    with running_x() as x:
        c = client(x.url)
        stranger = x.stranger("login broken again")
        mention = x.mention()
        c.create_tweet(text="same words", in_reply_to_tweet_id=mention)
        with pytest.raises(tweepy.Forbidden, match="duplicate content"):
            c.create_tweet(text="same words")
        with pytest.raises(tweepy.Forbidden, match="not been mentioned"):
            c.create_tweet(text="other words", in_reply_to_tweet_id=stranger)
        assert x.forbidden_replies == [stranger] and len(x.replies_to(mention)) == 1


def test_search_finds_posts_containing_every_word():
    with running_x() as x:
        wanted = x.stranger("acme login is down")
        x.stranger("acme billing fine")
        page = client(x.url).search_recent_tweets("acme login -is:retweet", user_auth=True)
        assert [t.id for t in page.data] == [int(wanted)]
