"""`GET /metrics` on the full app, which must be public (emailed links): who may scrape, and what a
scrape costs.

With `BROADCASTER_METRICS_TOKEN` set, a scrape must send it as `Authorization: Bearer <token>`
(Prometheus: `authorization: {credentials_file: ...}`), compared in constant time; wrong tokens are
attempt-limited per client address (`BROADCASTER_LOGIN_RATE_PER_ADDRESS`, counted like logins).
With none set, only a client on this host may scrape (a loopback address, and no proxy's forwarding
header: a proxy on this host would make every client look local). The body (a GROUP BY over every
delivery) is computed at most once in `CACHE_SECONDS`, by one thread while concurrent scrapes wait
for it, so a scrape storm costs one query.
"""

import hashlib
import hmac
import ipaddress
import threading
import time

from fastapi import Request
from fastapi.responses import Response
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from ..config import Settings
from ..delivery import metrics
from ..domain.client_address import limit_key
from ..people import auth
from .api.common import problem

CACHE_SECONDS = 15.0  # Prometheus's default scrape interval
# Any sign that a proxy passed the request on: a client on this host may be a proxy for the internet.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-proto", "x-forwarded-host", "via")


class Scrapes:
    def __init__(self, settings: Settings, clock=time.monotonic):
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[float, bytes, str] | None = None

    async def answer(self, request: Request) -> Response:
        refused = await run_in_threadpool(self.refusal, request)
        if refused is not None:
            return refused
        body, content_type = await run_in_threadpool(self.exposition)
        return Response(body, media_type=content_type)

    def exposition(self) -> tuple[bytes, str]:
        """The scrape's body and type, computed afresh once `CACHE_SECONDS` have passed."""
        with self._lock:
            if self._kept is None or self.clock() - self._kept[0] >= CACHE_SECONDS:
                body, content_type = metrics.exposition(self.settings.database_url)
                self._kept = (self.clock(), body, content_type)
            return self._kept[1], self._kept[2]

    def refusal(self, request: Request) -> Response | None:
        """None if this request may scrape; else the answer that says why not."""
        address = request.client.host if request.client else ""
        expected = self.settings.metrics_token
        if not expected:
            if _loopback(address) and not any(h in request.headers for h in FORWARDING_HEADERS):
                return None
            return problem(403, "Not allowed", "/metrics answers only on this host: set BROADCASTER_METRICS_TOKEN "
                                                "to scrape from elsewhere")
        scheme, given = get_authorization_scheme_param(request.headers.get("authorization"))
        if scheme.lower() != "bearer" or not given:
            return problem(401, "Not authenticated", "send `Authorization: Bearer <BROADCASTER_METRICS_TOKEN>`")
        rate, key = self.settings.login_rate_per_address, f"address:{limit_key(address)}"  # an IPv6 client by its /64
        if auth.over_limit(self.settings, rate, "metrics", key, count=False):
            return problem(429, "Too many attempts", f"over {rate} wrong metrics tokens from this address; "
                                                      "wait a minute and try again")
        if hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()):
            return None
        auth.over_limit(self.settings, rate, "metrics", key)  # a wrong token counts
        return problem(401, "Not authenticated", "the metrics token is wrong")


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A dual-stack socket (`--host ::`) reports 127.0.0.1 as ::ffff:127.0.0.1, which Python calls not loopback.
    return (ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped else ip).is_loopback
