"""Reading X through tweepy: who the account is, its mentions and a recent search, page by page."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import requests
import tweepy

from ..channels import channel
from ..channels.x import client_for
from ..config import Settings
from ..domain.errors import InvalidInput, ProviderError

TWEET_FIELDS = ["author_id", "created_at", "conversation_id"]


@dataclass(frozen=True)
class Post:
    id: str
    author_id: str | None
    author_username: str | None
    text: str
    posted_at: datetime | None
    conversation_id: str | None


class XReader:
    def __init__(self, settings: Settings):
        if not channel("x").configured(settings) or settings.simulate:
            raise InvalidInput("X is not configured: set BROADCASTER_X_CONSUMER_KEY, _CONSUMER_SECRET, "
                               "_ACCESS_TOKEN and _ACCESS_TOKEN_SECRET (and unset BROADCASTER_SIMULATE)")
        self.settings = settings
        self.client = client_for(settings)

    def account(self) -> tuple[str, str]:
        """(user id, username) of the account we answer for; asked once per process."""
        key = (self.settings.x_api_base, self.settings.x_access_token)
        if key not in _accounts:
            me = _call(lambda: self.client.get_me(user_auth=True)).data
            _accounts[key] = (str(me.id), me.username)
        user_id, username = _accounts[key]
        return self.settings.x_user_id or user_id, username

    def mentions(self, user_id: str, since_id: str | None) -> Iterator[list[Post]]:
        """Newest first, one list a page, back to since_id (at most social_max_pages pages)."""
        yield from self._pages(lambda token: self.client.get_users_mentions(
            user_id, since_id=since_id, pagination_token=token, **self._common()))

    def search(self, query: str, since_id: str | None) -> Iterator[list[Post]]:
        yield from self._pages(lambda token: self.client.search_recent_tweets(
            query, since_id=since_id, next_token=token, **self._common()))

    def _common(self) -> dict:
        return {"max_results": self.settings.social_page_size, "tweet_fields": TWEET_FIELDS,
                "expansions": ["author_id"], "user_fields": ["username"], "user_auth": True}

    def _pages(self, fetch) -> Iterator[list[Post]]:
        token = None
        for _ in range(self.settings.social_max_pages):
            page = _call(partial(fetch, token))
            users = {str(u.id): u.username for u in (page.includes or {}).get("users", [])}
            yield [Post(str(t.id), str(t.author_id) if t.author_id else None, users.get(str(t.author_id)), t.text,
                        t.created_at, str(t.conversation_id) if t.conversation_id else None) for t in page.data or []]
            token = (page.meta or {}).get("next_token")
            if not token:
                return


_accounts: dict[tuple[str | None, str | None], tuple[str, str]] = {}


def _call(fetch):
    try:
        return fetch()
    except tweepy.TooManyRequests as exc:
        when = datetime.fromtimestamp(exc.reset_time).isoformat(timespec="seconds") if exc.reset_time else "later"
        raise ProviderError(f"X says too many requests for this endpoint: try again after {when}") from None
    except tweepy.HTTPException as exc:
        raise ProviderError(f"X refused the request: {exc}") from None
    except requests.RequestException as exc:
        raise ProviderError(f"cannot reach X: {exc}") from None
