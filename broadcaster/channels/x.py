"""Posts on X through API v2 (OAuth 1.0a user context): one post per statement version,
later versions of an incident posted as replies so the updates read as one thread."""

import time
from collections.abc import Iterator

import requests
import tweepy

from ..config import Settings
from ..render.limits import LimitCheck
from .base import Channel, Kind, SendContext, SendResult, Target, TransportError

X_ORIGIN = "https://api.twitter.com"


class _Session(requests.Session):
    # tweepy hard-codes its host and sets no timeout, but sends everything through
    # client.session: this is the one place to add both.
    def __init__(self, base_url: str | None):
        super().__init__()
        self.base_url = base_url.rstrip("/") if base_url else None

    def request(self, method, url, *args, **kwargs):
        if self.base_url and url.startswith(X_ORIGIN):
            url = self.base_url + url[len(X_ORIGIN):]
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, *args, **kwargs)


class XPosts:
    provider = "x"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.account = settings.x_access_token
        self.client = tweepy.Client(consumer_key=settings.x_consumer_key, consumer_secret=settings.x_consumer_secret,
                                    access_token=settings.x_access_token,
                                    access_token_secret=settings.x_access_token_secret)
        self.client.session = _Session(settings.x_api_base)

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            try:
                response = self.client.create_tweet(text=fields["text"], in_reply_to_tweet_id=context.reply_to)
            except tweepy.TooManyRequests as e:
                wait = max(e.reset_time - time.time(), 1.0) if e.reset_time else None
                raise TransportError(f"x: {e}", code="429", retry_after=wait) from e
            except tweepy.TwitterServerError as e:
                raise TransportError(f"x: {e}", code=str(e.response.status_code)) from e
            except tweepy.HTTPException as e:  # 400/401/403, e.g. a duplicate post: resending won't help
                raise TransportError(f"x: {e}", permanent=True, code=str(e.response.status_code)) from e
            except requests.RequestException as e:
                raise TransportError(f"x: {e}") from e
            results.append(SendResult(target.delivery_id, "sent", str(response.data["id"])))
        return results


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
