"""Watching the public server as customers do: `broadcaster serve --public` in a process of its own,
and one keep-alive client per URL (`/banner.json`, `/status`, `/api/v2/summary.json`, the IVR's
TwiML), each polling every few milliseconds from the moment `publish` is called until it shows
the new words. Shared by bench/live_during_bulk.py and tests/integration/test_public_live.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from tests import loopback
from tests.integration.private_services import PublicServer

URLS = ("/banner.json", "/status", "/api/v2/summary.json", "/ivr/voice")
POLL_SECONDS = 0.005


class PublicWatch:
    def __init__(self, env: dict[str, str], logs: Path, public_url: str, twilio_token: str, workers: int = 1):
        self.server = PublicServer(env, logs, workers=workers)
        self.public_url, self.token = public_url, twilio_token

    def __enter__(self) -> PublicWatch:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

    def _fetch(self, client: httpx.Client, path: str) -> bytes:
        if path == "/ivr/voice":  # Twilio's inbound-call webhook, signed as Twilio signs it
            form = {"CallSid": "CA" + "0" * 32, "From": "+14155550100", "To": "+18005550100"}
            signature = RequestValidator(self.token).compute_signature(self.public_url + path, form)
            return client.post(path, data=form, headers={"X-Twilio-Signature": signature}).content
        return client.get(path).content

    def watch(self, words: dict[str, bytes], timeout: float = 60.0) -> tuple[threading.Event, dict[str, float]]:
        """Start polling now; `seen[path]` becomes the monotonic time `words[path]` first appeared. Call
        before `publish`; wait on the returned event."""
        seen: dict[str, float] = {}
        done = threading.Event()
        lock = threading.Lock()

        def poll(path: str) -> None:
            deadline = time.monotonic() + timeout
            with loopback.client(base_url=self.server.url, timeout=5) as client:
                while time.monotonic() < deadline:
                    try:
                        body = self._fetch(client, path)
                    except httpx.HTTPError:
                        body = b""
                    if words[path] in body:
                        with lock:
                            seen[path] = time.monotonic()
                            if len(seen) == len(URLS):
                                done.set()
                        return
                    time.sleep(POLL_SECONDS)
            done.set()  # timed out: the caller sees what is missing

        for path in URLS:
            threading.Thread(target=poll, args=(path,), daemon=True).start()
        return done, seen


def new_words(headline: str, statement_id: int) -> dict[str, bytes]:
    """What shows that a URL serves the new version: its headline (banner, page, phone line); in the
    Statuspage JSON, which carries the incident's name and the updates' bodies, the update's id."""
    words = {path: headline.encode() for path in URLS}
    words["/api/v2/summary.json"] = f'"id":"{statement_id}"'.encode()
    return words
