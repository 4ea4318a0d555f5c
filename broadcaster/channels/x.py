"""Posts on X through API v2 (OAuth 1.0a user context): one post per statement version,
later versions of an incident posted as replies so the updates read as one thread."""

import time
from collections.abc import Callable, Iterator

import requests
import tweepy

from ..config import Settings
from ..render.limits import LimitCheck
from . import _xbudget
from .base import Channel, Kind, SendContext, SendResult, Target, TransportError

X_ORIGIN = "https://api.twitter.com"


class _Session(requests.Session):
    # tweepy hard-codes its host and sets no timeout, but sends everything through
    # client.session: this is the one place to add both, and to read X's rate headers
    # (tweepy's responses drop them).
    def __init__(self, base_url: str | None, on_post_response: Callable[[requests.Response], None] | None = None):
        super().__init__()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.on_post_response = on_post_response

    def request(self, method, url, *args, **kwargs):
        if self.base_url and url.startswith(X_ORIGIN):
            url = self.base_url + url[len(X_ORIGIN):]
        kwargs.setdefault("timeout", 10)
        response = super().request(method, url, *args, **kwargs)
        if self.on_post_response and method.upper() == "POST" and url.endswith("/2/tweets"):
            self.on_post_response(response)
        return response


def client_for(settings: Settings) -> tweepy.Client:
    """A tweepy client (OAuth 1.0a user context) whose every post reports X's budget headers."""
    client = tweepy.Client(consumer_key=settings.x_consumer_key, consumer_secret=settings.x_consumer_secret,
                           access_token=settings.x_access_token, access_token_secret=settings.x_access_token_secret)
    account = settings.x_access_token or ""
    client.session = _Session(settings.x_api_base,
                              lambda response: _xbudget.observe(settings, account, response.headers))
    return client


def spend_budget(settings: Settings, account: str, kind: str) -> None:
    """One post of X's window, or a TransportError saying when (nothing was sent, no attempt spent)."""
    wait = _xbudget.take(settings, account, kind)
    if wait:
        raise TransportError(f"x: the posting window is spent{' for replies' if kind == _xbudget.REPLY else ''}; "
                             f"waiting {wait:.1f} s for X's reset", code="x-window", retry_after=wait,
                             attempted=False)


class XPosts:
    provider = "x"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.settings = settings
        self.account = settings.x_access_token
        self.client = client_for(settings)

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            spend_budget(self.settings, self.account, _xbudget.STATEMENT)  # statements may use the reserve
            results.append(SendResult(target.delivery_id, "sent", create_post(self.client, fields["text"],
                                                                              context.reply_to)))
        return results


class DuplicateContent(TransportError):
    """X's 403 for words this account has just posted."""


def create_post(client: tweepy.Client, text: str, in_reply_to: str | None) -> str:
    """Post (or reply); the new post's id. Errors as TransportError: retried only when nothing was posted."""
    try:
        response = client.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to)
    except tweepy.TooManyRequests as e:
        wait = max(e.reset_time - time.time(), 1.0) if e.reset_time else None
        raise TransportError(f"x: {e}", code="429", retry_after=wait) from e
    except tweepy.TwitterServerError as e:
        raise TransportError(f"x: {e}", code=str(e.response.status_code)) from e
    except tweepy.Forbidden as e:
        if "duplicate content" in str(e).lower():
            raise DuplicateContent(f"x: {e}", permanent=True, code="403") from e
        raise TransportError(f"x: {e}", permanent=True, code="403") from e
    except tweepy.HTTPException as e:  # 400/401: resending won't help
        raise TransportError(f"x: {e}", permanent=True, code=str(e.response.status_code)) from e
    except requests.RequestException as e:
        raise TransportError(f"x: {e}") from e
    return str(response.data["id"])


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
