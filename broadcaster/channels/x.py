"""Posts on X through API v2 (OAuth 1.0a user context): one post per statement version,
later versions of an incident posted as replies so the updates read as one thread."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import requests
import tweepy

from ..config import Settings
from ..render.limits import LimitCheck
from .base import Channel, ErrorTable, Kind, SendContext, SendResult, Target, TransportError, request_never_left

X_ORIGIN = "https://api.twitter.com"


class _Session(requests.Session):
    # tweepy hard-codes its host and sets no timeout, but sends everything through
    # client.session: this is the one place to add both.
    def __init__(self, base_url: str | None, timeout: float = 10.0):
        super().__init__()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):
        if self.base_url and url.startswith(X_ORIGIN):
            url = self.base_url + url[len(X_ORIGIN):]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


# https://docs.x.com/x-api/fundamentals/response-codes-and-errors
X_ERRORS = ErrorTable(credentials={"401"}, transient={"429"})
DUPLICATE = "duplicate content"  # X's 403 detail when the account already posted this text


class XPosts:
    provider = "x"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.account = settings.x_access_token
        self.client = tweepy.Client(consumer_key=settings.x_consumer_key, consumer_secret=settings.x_consumer_secret,
                                    access_token=settings.x_access_token,
                                    access_token_secret=settings.x_access_token_secret)
        self.client.session = _Session(settings.x_api_base, settings.provider_timeout_seconds)
        self._user_id: str | None = None

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            try:
                response = self.client.create_tweet(text=fields["text"], in_reply_to_tweet_id=context.reply_to)
            except tweepy.HTTPException as e:
                if e.response.status_code == 403 and DUPLICATE in str(e).lower():
                    results.append(self._already_posted(fields, target))
                    continue
                raise _error(e) from e
            except requests.RequestException as e:
                raise _connection_error(e) from e
            results.append(SendResult(target.delivery_id, "sent", str(response.data["id"])))
        return results

    def _already_posted(self, fields: dict[str, str], target: Target) -> SendResult:
        """X refuses a post identical to one the account made: that post is what customers see."""
        since = datetime.now(UTC) - timedelta(days=1)
        try:
            post_id = self.find_sent(fields, target, since.isoformat())
        except TransportError:
            post_id = None
        return SendResult(target.delivery_id, "sent", post_id,
                          "X says this exact post is already on the account (duplicate): shown, not resent")

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        """The id of the account's own post with exactly this text since `since_iso`, if any."""
        since = datetime.fromisoformat(since_iso)
        since = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC)
        try:
            if self._user_id is None:
                self._user_id = str(self.client.get_me(user_auth=True).data["id"])
            response = self.client.get_users_tweets(self._user_id, user_auth=True, max_results=100,
                                                    start_time=since.strftime("%Y-%m-%dT%H:%M:%SZ"))
        except (tweepy.HTTPException, requests.RequestException) as e:
            raise TransportError(f"x: could not list the account's posts: {e}") from e
        for post in response.data or ():
            if post["text"] == fields["text"]:
                return str(post["id"])
        return None


def _error(e: tweepy.HTTPException) -> TransportError:
    status = e.response.status_code
    retry_after = None
    if isinstance(e, tweepy.TooManyRequests) and e.reset_time:  # X says when its window resets
        retry_after = max(e.reset_time - time.time(), 1.0)
    return X_ERRORS.error(f"x: {e}", str(status), status, retry_after)


def _connection_error(e: requests.RequestException) -> TransportError:
    if request_never_left(e):
        return TransportError(f"x: not posted, the request never reached X: {e}")
    return TransportError(f"x: no answer after the post was sent, it may be up: {e}", code="no answer",
                          ambiguous=True)


def check_x(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    from twitter_text import parse_tweet  # half a second to import: only pay it when checking a post

    weighted = parse_tweet(fields["text"]).weightedLength
    yield LimitCheck(
        "x", "weighted length", weighted, settings.x_max_weighted_length, "characters",
        "URLs count 23, CJK and emoji count 2",
    )


CHANNEL = Channel(
    "x", Kind.LIVE, XPosts, limits=check_x, rate=lambda s: s.x_rate, threads_updates=True,
    configured=lambda s: all((s.x_consumer_key, s.x_consumer_secret, s.x_access_token, s.x_access_token_secret)),
)
