"""ASGI middleware every request passes: its body counted as it arrives (Content-Length is not
trusted) and refused past `max_body_bytes` with 413, a JSON body nested deeper than
`max_json_depth` refused with 422, before any route reads a byte. Routes that take no body are
covered the same way: the count is of what arrives, not of what a route expects."""

import json

from ..config import Settings
from .request_ids import current_request_id

PROBLEM = "application/problem+json"

# The HTTP parser uvicorn serves our apps with, named rather than left to its "auto", which takes
# httptools whenever it is installed (the tests install it for their fake providers): h11 refuses a
# request head over 16 KiB before any of our code runs, and httptools sets no such bound.
HTTP_PARSER = "h11"


class BoundedRequests:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.most = settings.max_body_bytes
        self.depth = settings.max_json_depth

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.most:
            return await refuse(send, 413, "Content too large", self._too_large())
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body arrived
            size += len(chunk := message.get("body", b""))
            if size > self.most:
                return await refuse(send, 413, "Content too large", self._too_large())
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if body and too_deep(body, self.depth):
            return await refuse(send, 422, "Invalid input", f"body: nested deeper than {self.depth} levels "
                                "(objects and arrays); flatten it", field="body")
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"body: at most {self.most} bytes (BROADCASTER_MAX_BODY_BYTES)"


def too_deep(body: bytes, most: int) -> bool:
    """Whether brackets outside strings nest deeper than `most` (any body: a form cannot nest, so
    only JSON-like text can trip it)."""
    if body.count(b"[") + body.count(b"{") <= most:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > most:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


async def refuse(send, status: int, title: str, detail: str, headers: list | None = None, **extra) -> None:
    """A problem-details answer from a middleware (before any route)."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail, **extra,
                       "request_id": current_request_id.get()}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
