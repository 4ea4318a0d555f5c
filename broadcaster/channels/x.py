"""Posts on X through API v2 (OAuth 1.0a user context): one post per statement version,
later versions of an incident posted as replies so the updates read as one thread. The
session, the budget and `create_post` are shared with the social reply channel (`reply.py`)."""

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import requests
import tweepy

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..render.limits import LimitCheck
from . import _xbudget
from .base import Channel, ErrorTable, Kind, SendContext, SendResult, Target, TransportError, request_never_left

X_ORIGIN = "https://api.twitter.com"


class _Session(requests.Session):
    # tweepy hard-codes its host and sets no timeout, but sends everything through
    # client.session: this is the one place to add both, and to read X's rate headers
    # (tweepy's responses drop them).
    def __init__(self, base_url: str | None, timeout: float = 10.0,
                 on_post_response: Callable[[requests.Response], None] | None = None):
        super().__init__()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.on_post_response = on_post_response

    def request(self, method, url, *args, **kwargs):
        if self.base_url and url.startswith(X_ORIGIN):
            url = self.base_url + url[len(X_ORIGIN):]
        kwargs.setdefault("timeout", self.timeout)
        response = super().request(method, url, *args, **kwargs)
        if self.on_post_response and method.upper() == "POST" and url.endswith("/2/tweets"):
            self.on_post_response(response)
        return response


def client_for(settings: Settings) -> tweepy.Client:
    """A tweepy client (OAuth 1.0a user context) whose every post reports X's budget headers."""
    client = tweepy.Client(consumer_key=settings.x_consumer_key, consumer_secret=settings.x_consumer_secret,
                           access_token=settings.x_access_token, access_token_secret=settings.x_access_token_secret)
    account = settings.x_access_token or ""
    client.session = _Session(settings.x_api_base, settings.provider_timeout_seconds,
                              lambda response: _xbudget.observe(settings, account, response.headers))
    return client


def spend_budget(settings: Settings, account: str, kind: str) -> None:
    """One post of X's window, or a TransportError saying when (nothing was sent, no attempt spent)."""
    wait = _xbudget.take(settings, account, kind)
    if wait:
        raise TransportError(f"x: the posting window is spent{' for replies' if kind == _xbudget.REPLY else ''}; "
                             f"waiting {wait:.1f} s for X's reset", code="x-window", retry_after=wait,
                             attempted=False)


# https://docs.x.com/x-api/fundamentals/response-codes-and-errors
X_ERRORS = ErrorTable(credentials={"401"}, transient={"429"})
DUPLICATE = "duplicate content"  # X's 403 detail when the account already posted this text


class DuplicateContent(TransportError):
    """X's 403 for words this account has already posted."""

def create_post(client: tweepy.Client, text: str, in_reply_to: str | None) -> str:
    """Post (or reply); the new post's id. Errors as TransportError by X's error table: retried at
    once only when nothing can have been posted; no answer after the request left is ambiguous."""
    try:
        response = client.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to)
    except tweepy.HTTPException as e:
        if e.response.status_code == 403 and DUPLICATE in str(e).lower():
            raise DuplicateContent(f"x: {e}", permanent=True, code="403") from e
        raise _error(e) from e
    except requests.RequestException as e:
        raise _connection_error(e) from e
    return str(response.data["id"])


class XPosts:
    provider = "x"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.settings = settings
        self.account = settings.x_access_token
        self.client = client_for(settings)
        self._user_id: str | None = None

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            spend_budget(self.settings, self.account, _xbudget.STATEMENT)  # statements may use the reserve
            try:
                post_id = create_post(self.client, fields["text"], context.reply_to)
            except DuplicateContent:
                results.append(self._already_posted(fields, target))
                continue
            results.append(SendResult(target.delivery_id, DeliveryStatus.SENT, post_id))
        return results

    def _already_posted(self, fields: dict[str, str], target: Target) -> SendResult:
        """X refuses a post identical to one the account made: that post is what customers see."""
        since = datetime.now(UTC) - timedelta(days=1)
        try:
            post_id = self.find_sent(fields, target, since.isoformat())
        except TransportError:
            post_id = None
        return SendResult(target.delivery_id, DeliveryStatus.SENT, post_id,
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
    from ._xlength import weighted_length  # twitter-text takes half a second to import: only when checking

    weighted = weighted_length(fields["text"])
    yield LimitCheck(
        "x", "weighted length", weighted, settings.x_max_weighted_length, "characters",
        "URLs count 23, CJK and emoji count 2",
    )


CHANNEL = Channel(
    "x", Kind.LIVE, XPosts, limits=check_x, rate=lambda s: s.x_rate, threads_updates=True,
    configured=lambda s: all((s.x_consumer_key, s.x_consumer_secret, s.x_access_token, s.x_access_token_secret)),
)
