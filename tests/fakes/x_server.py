"""A fake of the X API v2 endpoints the social queue uses, on real HTTP on 127.0.0.1, for tweepy.

    with running_x(window_posts=10, window_seconds=2) as x:
        x.mention("@acme is login down?")          # a customer post that mentions the account
        x.stranger("login is down again")          # one that does not (search finds it)
        settings = make_settings(db, x_api_base=x.url, x_consumer_key="ck", ...)
        ...
        assert x.rejected_429 == 0 and [p["in_reply_to_tweet_id"] for p in x.created]

Endpoints (every request needs an ``Authorization`` header):

* ``GET /2/users/me``: the account (id ``ACCOUNT_ID``, username ``acme``);
* ``GET /2/users/{id}/mentions``: posts naming ``@acme``, newest first, ``since_id``, ``max_results``
  (5-100, default 10), paged with ``pagination_token`` / ``meta.next_token``; ``expansions=author_id``
  adds ``includes.users``;
* ``GET /2/tweets/search/recent``: posts containing every word of ``query`` (operators such as
  ``-is:retweet`` are ignored), paged with ``next_token``;
* ``POST /2/tweets``: creates a post, ``reply.in_reply_to_tweet_id`` makes it a reply. Every answer carries
  ``x-rate-limit-limit/remaining/reset`` for a fixed window of ``window_posts`` posts per ``window_seconds``
  (started by the first post after the last window ended) and ``x-user-limit-24hour-limit/remaining/reset``;
  past the window: 429. The same text as one of the last ``duplicate_window`` posts: 403 duplicate content.
  A reply to a post that neither mentions the account nor is its own: 403, as X's self-serve tiers answer
  since February 2026.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ACCOUNT_ID = "1000"
USERNAME = "acme"
FIRST_ID = 1_860_000_000_000_000_000
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
NOT_MENTIONED = ("Reply to this conversation is not allowed because you have not been mentioned or otherwise "
                 "engaged by the author of the post you are replying to.")


class FakeX:
    """The server's state; tests call its methods directly (same process) to add posts and read what it got."""

    def __init__(self, window_posts: int = 100, window_seconds: float = 900, day_posts: int = 10_000,
                 duplicate_window: int = 1, delay_ms: float = 0):
        self.window_posts, self.window_seconds, self.day_posts = window_posts, window_seconds, day_posts
        # duplicate_window: how many of the account's latest posts X compares new text with (0: none)
        self.duplicate_window, self.delay_ms = duplicate_window, delay_ms
        self.lock = threading.Lock()
        self.tweets: dict[str, dict] = {}  # every post, by id
        self.created: list[dict] = []  # posts our account made, in arrival order
        self.requests: list[tuple[str, str, dict, int]] = []  # (method, path, query, status)
        self.rejected_429 = 0
        self.duplicates_403 = 0
        self.forbidden_replies: list[str] = []  # post ids an API reply was refused for
        self._next_id = FIRST_ID
        self._window_start: float | None = None
        self._window_count = 0
        self._day_start: float | None = None
        self._day_count = 0
        self.url = ""

    # --- what tests do -----------------------------------------------------------------------------------------

    def mention(self, text: str | None = None, author: str = "customer", conversation_id: str | None = None) -> str:
        """A customer's post naming the account; returns its id."""
        return self._add(text or f"@{USERNAME} is login down?", author, conversation_id)

    def stranger(self, text: str, author: str = "someone") -> str:
        """A post that does not mention the account (search finds it; an API reply is refused)."""
        assert f"@{USERNAME}" not in text.lower()
        return self._add(text, author, None)

    def replies_to(self, post_id: str) -> list[dict]:
        return [p for p in self.created if p["in_reply_to_tweet_id"] == post_id]

    def _add(self, text: str, author: str, conversation_id: str | None) -> str:
        with self.lock:
            tweet_id = str(self._next_id)
            self._next_id += 1
            self.tweets[tweet_id] = {
                "id": tweet_id, "text": text, "author_id": str(abs(hash(author)) % 10**9), "username": author,
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "conversation_id": conversation_id or tweet_id, "in_reply_to": None}
            return tweet_id

    # --- the API -----------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes, auth: str | None
               ) -> tuple[int, dict, dict[str, str]]:
        if not auth:
            return 401, _error(401, "Unauthorized"), {}
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000)
        if method == "GET" and path == "/2/users/me":
            return 200, {"data": {"id": ACCOUNT_ID, "name": "Acme", "username": USERNAME}}, {}
        if method == "GET" and path == f"/2/users/{ACCOUNT_ID}/mentions":
            return 200, self._page(self._mentions(), query, "pagination_token"), {}
        if method == "GET" and path == "/2/tweets/search/recent":
            if not query.get("query"):
                return 400, _error(400, "query is required"), {}
            return 200, self._page(self._search(query["query"]), query, "next_token"), {}
        if method == "POST" and path == "/2/tweets":
            return self._create(body)
        return 404, _error(404, f"no route {method} {path}"), {}

    def _mentions(self) -> list[dict]:
        with self.lock:
            return [t for t in self.tweets.values()
                    if f"@{USERNAME}" in t["text"].lower() and t["username"] != USERNAME]

    def _search(self, query: str) -> list[dict]:
        words = [w.lower() for w in query.split() if not w.startswith("-") and ":" not in w]
        with self.lock:
            return [t for t in self.tweets.values() if t["username"] != USERNAME
                    and all(w in t["text"].lower() for w in words)]

    def _page(self, tweets: list[dict], query: dict[str, str], token_name: str) -> dict:
        since = int(query.get("since_id") or 0)
        newest_first = sorted((t for t in tweets if int(t["id"]) > since), key=lambda t: -int(t["id"]))
        size = min(max(int(query.get("max_results") or 10), 5), 100)
        offset = int((query.get(token_name) or "p0")[1:])
        page = newest_first[offset:offset + size]
        meta: dict = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if offset + size < len(newest_first):
            meta["next_token"] = f"p{offset + size}"
        result: dict = {"meta": meta}
        if page:
            result["data"] = [{k: t[k] for k in ("id", "text", "author_id", "created_at", "conversation_id")}
                              | {"edit_history_tweet_ids": [t["id"]]} for t in page]
            if "author_id" in (query.get("expansions") or ""):
                result["includes"] = {"users": [{"id": t["author_id"], "username": t["username"],
                                                  "name": t["username"]} for t in page]}
        return result

    def _create(self, body: bytes) -> tuple[int, dict, dict[str, str]]:
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, _error(400, "Request body is not valid JSON."), {}
        text = payload.get("text") or ""
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        with self.lock:
            now = time.time()
            if self._window_start is None or now >= self._window_start + self.window_seconds:
                self._window_start, self._window_count = now, 0
            if self._day_start is None or now >= self._day_start + 86400:
                self._day_start, self._day_count = now, 0
            if self._window_count >= self.window_posts or self._day_count >= self.day_posts:
                self.rejected_429 += 1
                return 429, _error(429, "Too Many Requests"), self._headers()
            self._window_count += 1
            self._day_count += 1
            if self.duplicate_window and any(p["text"] == text for p in self.created[-self.duplicate_window:]):
                self.duplicates_403 += 1
                return 403, _error(403, DUPLICATE), self._headers()
            if reply_to is not None and not self._may_reply_to(reply_to):
                self.forbidden_replies.append(reply_to)
                return 403, _error(403, NOT_MENTIONED), self._headers()
            tweet_id = str(self._next_id)
            self._next_id += 1
            post = {"id": tweet_id, "text": text, "in_reply_to_tweet_id": reply_to, "at": now}
            self.created.append(post)
            self.tweets[tweet_id] = {"id": tweet_id, "text": text, "author_id": ACCOUNT_ID, "username": USERNAME,
                                     "created_at": "", "conversation_id": tweet_id, "in_reply_to": reply_to}
            return 201, {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}, self._headers()

    def _may_reply_to(self, post_id: str) -> bool:
        post = self.tweets.get(post_id)
        return post is not None and (post["username"] == USERNAME or f"@{USERNAME}" in post["text"].lower())

    def _headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.window_posts),
            "x-rate-limit-remaining": str(max(self.window_posts - self._window_count, 0)),
            "x-rate-limit-reset": str(math.ceil(self._window_start + self.window_seconds)),
            "x-user-limit-24hour-limit": str(self.day_posts),
            "x-user-limit-24hour-remaining": str(max(self.day_posts - self._day_count, 0)),
            "x-user-limit-24hour-reset": str(math.ceil(self._day_start + 86400)),
        }


def _error(status: int, detail: str) -> dict:
    return {"title": {429: "Too Many Requests", 403: "Forbidden"}.get(status, "Error"), "detail": detail,
            "type": "about:blank", "status": status}


def _handler(fake: FakeX) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as tweepy's session expects

        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload, headers = fake.handle(method, url.path, query, body, self.headers.get("Authorization"))
            with fake.lock:
                fake.requests.append((method, url.path, query, status))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, *args) -> None:
            pass

    return Handler


@contextmanager
def running_x(**config) -> Iterator[FakeX]:
    """The fake on a free port of 127.0.0.1, in a thread of this process, until the block ends."""
    fake = FakeX(**config)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-x", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def x_settings(fake: FakeX) -> dict:
    """Settings values that point tweepy at the fake, with credentials set."""
    return {"x_consumer_key": "ck", "x_consumer_secret": "cs", "x_access_token": "at",
            "x_access_token_secret": "ats", "x_api_base": fake.url}
