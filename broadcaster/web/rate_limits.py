"""ASGI middleware: each API caller at most BROADCASTER_API_RATE requests, counted by every process
of the installation together (`usecase.installation_counters`). A caller is what its credentials
prove (`credentials.proven`: the token alone, however its scheme is spelt, or the session), checked
before counting with the read the route's own check then reuses; credentials that prove nothing
(none, or a made-up token) count on the client's address, so a flood of random tokens is one caller.

Every API answer says where the caller stands, as the IETF draft has it
(`RateLimit-Policy: "default";q=600;w=60`, `RateLimit: "default";r=599;t=42`); over the rate, 429
with a problem and `Retry-After`."""

import hashlib
import math
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter
from starlette.concurrency import run_in_threadpool

from ..config import Settings
from ..domain.client_address import limit_key
from ..store.redis_clients import shared_redis_url
from ..usecase import installation_counters
from . import credentials
from .bounds import refuse

POLICY = "default"


class RateLimited:
    def __init__(self, app, settings: Settings, prefix: str = "/api/v1/"):
        self.app = app
        self.settings = settings
        self.prefix = prefix
        self.rate = parse(settings.api_rate)
        # Counted in this process's memory (no shared Redis: the embedded default) a hit is a dict update,
        # done on the event loop; a hop to a worker thread and back cost more than the count itself.
        self.counted_here = shared_redis_url(settings) is None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        claimed = credentials.claimed(scope)
        # Already over under the credentials it claims: refused from the counters alone, no database read
        # (a runaway script repeating its token is refused as cheaply as it was before tokens were checked).
        if claimed is not None and not await self._counting(self._test, _bucket(claimed)):
            allowed, remaining, reset = await self._counting(self._hit, _bucket(claimed))
        else:
            caller = (await credentials.proven(self.settings, scope)
                      or f"address:{limit_key((scope.get('client') or ('',))[0] or '')}")
            allowed, remaining, reset = await self._counting(self._hit, _bucket(caller))
        window = self.rate.get_expiry()
        left = max(0, math.ceil(reset - time.time()))
        said = [(b"ratelimit-policy", f'"{POLICY}";q={self.rate.amount};w={window}'.encode()),
                (b"ratelimit", f'"{POLICY}";r={remaining};t={left}'.encode())]
        if not allowed:
            return await refuse(send, 429, "Too many requests", (
                f"over {self.settings.api_rate} for these credentials; try again in {max(left, 1)} s "
                "(BROADCASTER_API_RATE)"), headers=[*said, (b"retry-after", str(max(left, 1)).encode())])

        async def saying(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *said]}
            await send(message)

        await self.app(scope, receive, saying)

    async def _counting(self, count, who: str):
        return count(who) if self.counted_here else await run_in_threadpool(count, who)

    def _test(self, who: str) -> bool:
        """Whether `who` may make one more request (counts nothing)."""
        storage, namespace = installation_counters(self.settings)
        return FixedWindowRateLimiter(storage).test(self.rate, "broadcaster-api", namespace, who)

    def _hit(self, who: str) -> tuple[bool, int, float]:
        storage, namespace = installation_counters(self.settings)
        limiter = FixedWindowRateLimiter(storage)
        allowed = limiter.hit(self.rate, "broadcaster-api", namespace, who)
        reset, remaining = limiter.get_window_stats(self.rate, "broadcaster-api", namespace, who)
        return allowed, remaining, reset


def _bucket(caller: str) -> str:
    return hashlib.sha256(caller.encode()).hexdigest()[:32]

