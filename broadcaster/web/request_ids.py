"""ASGI middleware: every request has an id, the caller's `X-Request-ID` when it is a sane one (at
most 128 letters, digits, dots, dashes, underscores), else a new one. It is echoed in the answer's
`X-Request-ID`, carried by every problem detail (`request_id`), and logged with the request's
method, path, status and duration on the `broadcaster.requests` logger."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")
_SANE = re.compile(rb"^[A-Za-z0-9._-]{1,128}$")
logger = logging.getLogger("broadcaster.requests")


class RequestIds:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or []).get(HEADER.lower().encode(), b"")
        request_id = given.decode() if _SANE.match(given) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        started, status = time.perf_counter(), [0]

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                  (HEADER.lower().encode(), request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logger.info("request %s: %s %s -> %s in %.1f ms", request_id, scope.get("method"),
                        str(scope.get("path", "")).encode("unicode_escape").decode()[:300],
                        status[0], 1000 * (time.perf_counter() - started))
            current_request_id.reset(token)
