"""ASGI middleware: `Idempotency-Key` on the POSTs that create or send something (the API's, and the
dashboard's forms, which send theirs as the `idempotency_key` field against double clicks).

The first request with a key (per caller: the key is scoped to the credential that sent it) is
recorded with its fingerprint (method, path, query, body) before it acts; its answer is stored, for
BROADCASTER_IDEMPOTENCY_HOURS (at least a day). A retry with the same key and the same request gets
that answer again, marked `Idempotent-Replayed: true`, without acting; with another request it is
refused (409 Conflict: the key is taken). A retry that arrives while the first still runs waits for its answer, so two
concurrent retries act once and answer the same.

A record belongs to an authenticated caller: a request whose credentials do not check out
(`credentials.proven`: the API's token or session, the dashboard's session) claims no key and
writes nothing, so the public cannot fill the table. An answer where nothing happened is not kept
either, and the retry acts: a server error (5xx), a refusal (401, 403, 429), no such route or
method (404, 405), a request refused as invalid (422).
"""

import asyncio
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from ..config import Settings
from ..store.api_models import IdempotentRequest
from ..store.db import transaction
from ..store.orm import utcnow
from . import credentials
from .bounds import refuse

HEADER = b"idempotency-key"
FORM_FIELD = "idempotency_key"
KEY_MOST = 255
WAIT_SECONDS = 30.0  # how long a retry waits for the first request's answer
NOT_KEPT = {401, 403, 404, 405, 422, 429}  # nothing happened (or the answer depends on the moment)


class IdempotentWrites:
    def __init__(self, app, settings: Settings, paths: tuple[str, ...] = ("/api/v1/", "/dashboard/")):
        self.app = app
        self.settings = settings
        self.paths = paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(self.paths):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        body = await _whole_body(receive)
        key, from_form = headers.get(HEADER, b"").decode("latin-1"), False
        if not key and headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
            key = (parse_qs(body.decode("utf-8", "replace")).get(FORM_FIELD) or [""])[0]
            from_form = bool(key)
        if not key and HEADER not in headers:
            return await self.app(scope, _replaying(body, receive), send)
        if await credentials.proven(self.settings, scope, bearer=not scope["path"].startswith("/dashboard/")) is None:
            # Nobody proven: no key claimed, no row written; the route refuses them (401, or the login page).
            return await self.app(scope, _replaying(body, receive), send)
        if not 1 <= len(key) <= KEY_MOST or not all(0x21 <= ord(c) <= 0x7E for c in key):
            return await refuse(send, 422, "Invalid input", f"Idempotency-Key: 1 to {KEY_MOST} printable ASCII "
                                "characters without spaces (a UUID is best)", field="Idempotency-Key")
        owner = hashlib.sha256(headers.get(b"authorization", b"") + b"|" + _session(headers)).hexdigest()
        fingerprint = hashlib.sha256(b"\n".join([scope["method"].encode(), scope["path"].encode(),
                                                 scope.get("query_string", b""), body])).hexdigest()
        claimed = await run_in_threadpool(self._claim, owner, key, fingerprint, scope)
        if claimed is not True and from_form and claimed.fingerprint != fingerprint:
            # A form sent again after Back with other values: a new request by a person, not a retry.
            return await self.app(scope, _replaying(body, receive), send)
        if claimed is not True:
            return await self._answer_again(send, owner, key, fingerprint, claimed)
        answer = {"status": 500, "headers": [], "body": b""}

        async def keeping(message):
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, _replaying(body, receive), keeping)
        finally:
            await run_in_threadpool(self._keep, owner, key, answer)

    def _claim(self, owner: str, key: str, fingerprint: str, scope) -> bool | IdempotentRequest:
        """True: this request is the first with the key, and acts. Else the row found (maybe expired:
        then it is removed and this request claims the key afresh)."""
        now = utcnow()
        for _ in range(2):
            try:
                with transaction(self.settings.database_url) as s:
                    s.add(IdempotentRequest(owner=owner, key=key, fingerprint=fingerprint, method=scope["method"],
                                            path=scope["path"][:2000], expires_at=now + timedelta(
                                                hours=self.settings.idempotency_hours)))
                return True
            except IntegrityError:
                with transaction(self.settings.database_url) as s:
                    found = s.scalar(select(IdempotentRequest).where(IdempotentRequest.owner == owner,
                                                                      IdempotentRequest.key == key))
                    if found is None:
                        continue
                    if found.expires_at > now:
                        s.expunge(found)
                        return found
                    s.delete(found)
        return True

    def _keep(self, owner: str, key: str, answer: dict) -> None:
        with transaction(self.settings.database_url) as s:
            row = s.scalar(select(IdempotentRequest).where(IdempotentRequest.owner == owner,
                                                           IdempotentRequest.key == key))
            if row is None:
                return
            if answer["status"] >= 500 or answer["status"] in NOT_KEPT:
                s.delete(row)  # nothing to give again: the retry acts
                return
            row.status, row.body = answer["status"], answer["body"]
            row.headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in answer["headers"]
                           if k.lower() not in (b"x-request-id", b"content-length")]
            # The oldest keys go as new ones are answered: the table holds only the window.
            s.execute(delete(IdempotentRequest).where(IdempotentRequest.expires_at < utcnow()))

    async def _answer_again(self, send, owner: str, key: str, fingerprint: str, found: IdempotentRequest):
        if found.fingerprint != fingerprint:
            return await refuse(send, 409, "Idempotency-Key reused", (
                f"Idempotency-Key: {key!r} was used with another request ({found.method} {found.path}, or "
                "another body); a new request needs a new key"), field="Idempotency-Key")
        waited = 0.0
        while found is not None and found.status is None and waited < WAIT_SECONDS:
            await asyncio.sleep(0.05)
            waited += 0.05
            found = await run_in_threadpool(self._find, owner, key)
        if found is None:
            return await refuse(send, 409, "Illegal transition", f"Idempotency-Key: {key!r}: the first request "
                                "with this key failed; send it again to try again")
        if found.status is None:
            return await refuse(send, 409, "Illegal transition", f"Idempotency-Key: {key!r}: the first request "
                                "with this key is still running; try again in a moment")
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in found.headers or []]
        await send({"type": "http.response.start", "status": found.status,
                    "headers": [*headers, (b"idempotent-replayed", b"true"),
                                (b"content-length", str(len(found.body or b"")).encode())]})
        await send({"type": "http.response.body", "body": found.body or b""})

    def _find(self, owner: str, key: str) -> IdempotentRequest | None:
        with transaction(self.settings.database_url) as s:
            found = s.scalar(select(IdempotentRequest).where(IdempotentRequest.owner == owner,
                                                              IdempotentRequest.key == key))
            if found is not None:
                s.expunge(found)
            return found


def _session(headers: dict) -> bytes:
    cookie = headers.get(b"cookie", b"").decode("latin-1")
    return next((part.split("=", 1)[1].encode() for part in cookie.split(";")
                 if part.strip().startswith("broadcaster_session=")), b"")


async def _whole_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive):
    given = False

    async def replay():
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}
    return replay

