"""A fast fake of the Twilio, SendGrid and X APIs, for tests and benchmarks.

Run it with ``python -m tests.fakes.provider --port N [--rate-limit PER_SECOND]``; it listens on 127.0.0.1 only
(``--port 0`` picks a free port) and prints ``fake provider listening on http://127.0.0.1:PORT`` once bound.
Point the official SDKs at it:

* twilio: ``client.api.base_url = url`` (``POST``/``GET /2010-04-01/Accounts/{sid}/Messages.json``,
  ``GET .../Messages/{MessageSid}.json``; ``POST``/``GET .../Calls.json``, newest first, ``To``/``From`` honoured);
* sendgrid: ``SendGridAPIClient(api_key, host=url)`` (``POST /v3/mail/send``);
* tweepy: rewrite ``https://api.twitter.com`` to ``url`` in ``client.session`` (``POST /2/tweets``,
  ``GET /2/users/me``, ``GET /2/users/{id}/tweets`` newest first, ``start_time`` honoured).

It remembers every message it accepted, per recipient, and answers control requests:

* ``GET /_counts``: ``sms`` {to: n}, ``calls`` {to: n}, ``email`` {address: n},
  ``email_delivery_ids`` {address: [delivery_id]},
  ``x`` [{id, text, in_reply_to_tweet_id}], ``requests``, ``requests_by_provider``, ``status_counts``,
  ``rejected_429`` (refused by the rate limit), ``faults_injected``, ``per_second`` {epoch second: n},
  ``per_second_by_provider``, ``peak_window_1s`` {provider: most requests that arrived in any one second};
* ``GET /_totals``: how many ``sms``, ``calls`` and ``email`` it accepted in all, and ``requests`` (cheap
  to poll in the middle of a fan-out of many thousands);
* ``GET /_messages``: the full records (``sms``, ``email``, ``x``, ``calls`` with the ``url`` each was given);
* ``POST /_reset``: forget everything, faults included (the ``--rate-limit`` given at start stays);
* ``POST /_faults`` (JSON; ``GET`` shows them): ``{"fail_next": N, "status": 500, "retry_after": S,
  "provider": "twilio"|"sendgrid"|"x", "deliver": false}`` makes the next N provider requests (of that provider,
  if given) fail with that status (default 500; a 429 or ``retry_after`` adds ``Retry-After``); with
  ``"deliver": true`` the message is recorded all the same, as when a provider fails after accepting;
  ``{"fail_next": N, "hang": true}`` accepts the message and never answers (the client's read timeout fires);
  ``"path": "/Calls.json"`` limits such a rule to requests whose path contains it (a call, not an SMS).
  ``{"twilio_codes": {"+1...": 21610}}`` makes Twilio refuse those numbers with that error code (400,
  or 429 for 21611 and 20429); ``{"x_duplicates": true}`` makes X refuse a post whose text it already has
  (403, "duplicate content"), as X does.
  ``{"invalid_numbers": [...]}`` makes Twilio refuse those ``To`` numbers (400, code 21211);
  ``{"invalid_emails": [...]}`` makes SendGrid refuse requests naming them (400); ``{"delay_ms": 20}`` adds
  latency to every provider request; ``{"rate_limit": N}`` (or null) changes the rate limit;
  ``{"clear": true}`` drops all faults first. Keys combine in one request.

Errors come in each provider's own shape: Twilio ``{"code", "message", "more_info", "status"}`` (so twilio-python
raises ``TwilioRestException`` with ``.code``), SendGrid ``{"errors": [{"message", "field", "help"}]}``, X
``{"title", "detail", "type", "status"}``. Every provider request must carry an ``Authorization`` header (any).

``--rate-limit N`` enforces N requests per second per provider over a sliding one-second window; requests over
it get 429 with ``Retry-After: 1`` (and ``x-rate-limit-reset`` for X) and count in ``rejected_429``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from collections import deque
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

PROVIDERS = ("twilio", "sendgrid", "x")
TWILIO_PREFIX = "/2010-04-01/Accounts/"
TWILIO_DOCS = "https://www.twilio.com/docs/errors/"
SENDGRID_MAX_PERSONALIZATIONS = 1000
X_USER_ID = "1500000000000000001"

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_JSON = (b"content-type", b"application/json; charset=utf-8")


def _json_body(obj) -> bytes:
    return _dumps(obj).encode()


class Reply:
    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: bytes = b"", headers: list | None = None):
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else [_JSON]


def _json(status: int, obj, headers: list | None = None) -> Reply:
    return Reply(status, _json_body(obj), [_JSON, *(headers or ())])


# --- error shapes ---------------------------------------------------------------------------------------------

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def twilio_error(status: int, code: int | None = None, message: str | None = None, headers=None) -> Reply:
    # No "type"/"title" keys: twilio-python would then raise TwilioServiceException instead.
    code = code if code is not None else 20000 + status
    message = message or _REASONS.get(status, "Error")
    return _json(status, {"code": code, "message": message, "more_info": f"{TWILIO_DOCS}{code}", "status": status},
                 headers)


def sendgrid_error(status: int, message: str | None = None, field: str | None = None, headers=None) -> Reply:
    message = message or _REASONS.get(status, "Error")
    return _json(status, {"errors": [{"message": message, "field": field, "help": None}]}, headers)


def x_error(status: int, detail: str | None = None, headers=None) -> Reply:
    title = _REASONS.get(status, "Error")
    return _json(status, {"title": title, "detail": detail or title, "type": "about:blank", "status": status},
                 headers)


def provider_error(provider: str, status: int, retry_after: float | None = None, detail: str | None = None) -> Reply:
    headers = []
    if retry_after is not None:
        headers.append((b"retry-after", str(int(retry_after) if float(retry_after).is_integer() else retry_after)
                        .encode()))
        if provider == "x":
            headers.append((b"x-rate-limit-reset", str(int(time.time() + float(retry_after)) + 1).encode()))
            headers.append((b"x-rate-limit-remaining", b"0"))
    if provider == "twilio":  # 401 is Twilio's 20003, "Authenticate"
        return twilio_error(status, 20003 if status == 401 else None, message=detail, headers=headers)
    if provider == "sendgrid":
        return sendgrid_error(status, message=detail, headers=headers)
    return x_error(status, detail=detail, headers=headers)


# --- helpers --------------------------------------------------------------------------------------------------

_rfc_cache: tuple[int, str] = (-1, "")


def rfc2822(ts: float) -> str:
    """Twilio's date format, cached per second (formatting is the costly part of a create)."""
    global _rfc_cache
    sec = int(ts)
    if _rfc_cache[0] != sec:
        _rfc_cache = (sec, time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(sec)))
    return _rfc_cache[1]


def parse_twilio_date(value: str) -> tuple[float, bool]:
    """Parse a DateSent filter value; returns (epoch seconds, whether it was a whole day)."""
    value = value.strip()
    for fmt, whole_day in (("%Y-%m-%dT%H:%M:%SZ", False), ("%Y-%m-%d", True)):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp(), whole_day
        except ValueError:
            pass
    raise ValueError(value)


def sms_segments(body: str) -> int:
    single, multi = (160, 153) if body.isascii() else (70, 67)
    n = len(body)
    return 1 if n <= single else -(-n // multi)


class Rule:
    __slots__ = ("remaining", "status", "retry_after", "provider", "deliver", "hang", "path")

    def __init__(self, remaining: int, status: int, retry_after, provider: str | None, deliver: bool,
                 hang: bool = False, path: str | None = None):
        self.path = path
        self.remaining = remaining
        self.status = status
        self.retry_after = retry_after
        self.provider = provider
        self.deliver = deliver or hang
        self.hang = hang

    def as_dict(self) -> dict:
        return {"fail_next": self.remaining, "status": self.status, "retry_after": self.retry_after,
                "provider": self.provider, "deliver": self.deliver, "hang": self.hang, "path": self.path}


class Hang(Exception):
    """The request was accepted; the answer never comes."""


class Sms:
    """One accepted SMS, kept compact (a benchmark keeps tens of thousands); the resource is built on demand."""

    __slots__ = ("ts", "sid", "account", "to", "sender", "service", "body", "created", "media", "callback")

    def __init__(self, ts, sid, account, to, sender, service, body, created, media, callback):
        self.ts = ts
        self.sid = sid
        self.account = account
        self.to = to
        self.sender = sender
        self.service = service
        self.body = body
        self.created = created
        self.media = media
        self.callback = callback

    def resource(self, sent: bool = True) -> dict:
        """Twilio's message resource: as created ("queued") or as a later fetch/list sees it ("sent")."""
        prefix = f"{TWILIO_PREFIX}{self.account}/Messages/{self.sid}"
        return {
            "account_sid": self.account,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": self.created,
            "date_sent": self.created if sent else None,
            "date_updated": self.created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.sender,
            "messaging_service_sid": self.service,
            "num_media": str(self.media),
            "num_segments": str(sms_segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": "sent" if sent else "queued",
            "subresource_uris": {"media": f"{prefix}/Media.json"},
            "to": self.to,
            "uri": f"{prefix}.json",
        }


class BadRequest(Exception):
    def __init__(self, reply: Reply):
        self.reply = reply


# --- the fake -------------------------------------------------------------------------------------------------


class FakeProvider:
    """The ASGI app and everything it remembers. One process, one event loop: no locks needed."""

    def __init__(self, rate_limit: float | None = None):
        self.default_rate_limit = rate_limit
        self._prefix = os.urandom(4).hex()
        self._counter = 0
        self._tweet_base = 1_900_000_000_000_000_000 + int.from_bytes(os.urandom(3), "big") * 1_000_000_000
        self.reset()

    # state -----------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        self.sms: dict[str, int] = {}
        self.sms_log: dict[str, list[Sms]] = {}
        self.sms_all: list[Sms] = []
        self.sms_by_sid: dict[str, Sms] = {}
        self.calls: dict[str, int] = {}
        self.calls_log: list[dict] = []  # Twilio's call resources, oldest first
        self._bodies: dict[str, str] = {}  # one copy of each distinct body
        self.email: dict[str, int] = {}
        self.email_log: list[dict] = []
        self.email_delivery_ids: dict[str, list] = {}
        self.x: list[dict] = []
        self.requests = 0
        self.by_provider = dict.fromkeys(PROVIDERS, 0)
        self.status_counts: dict[int, int] = {}
        self.rejected_429 = 0
        self.faults_injected = 0
        self.per_second: dict[int, int] = {}
        self.per_second_by_provider: dict[str, dict[int, int]] = {p: {} for p in PROVIDERS}
        self.arrivals = {p: deque() for p in PROVIDERS}
        self.peak = dict.fromkeys(PROVIDERS, 0)
        self.window = {p: deque() for p in PROVIDERS}
        self.clear_faults()

    def clear_faults(self) -> None:
        self.rules: list[Rule] = []
        self.invalid_numbers: set[str] = set()
        self.invalid_emails: set[str] = set()
        self.twilio_codes: dict[str, int] = {}
        self.x_duplicates = False
        self.delay = 0.0
        self.rate_limit = self.default_rate_limit

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def counts(self) -> dict:
        return {
            "sms": self.sms,
            "calls": self.calls,
            "email": self.email,
            "email_delivery_ids": self.email_delivery_ids,
            "x": [{k: post[k] for k in ("id", "text", "in_reply_to_tweet_id")} for post in self.x],
            "requests": self.requests,
            "requests_by_provider": self.by_provider,
            "status_counts": {str(k): v for k, v in sorted(self.status_counts.items())},
            "rejected_429": self.rejected_429,
            "faults_injected": self.faults_injected,
            "per_second": {str(k): v for k, v in sorted(self.per_second.items())},
            "per_second_by_provider": {
                p: {str(k): v for k, v in sorted(d.items())} for p, d in self.per_second_by_provider.items()
            },
            "peak_window_1s": self.peak,
            "rate_limit": self.rate_limit,
        }

    def faults_state(self) -> dict:
        return {
            "rules": [r.as_dict() for r in self.rules],
            "invalid_numbers": sorted(self.invalid_numbers),
            "invalid_emails": sorted(self.invalid_emails),
            "twilio_codes": self.twilio_codes,
            "x_duplicates": self.x_duplicates,
            "delay_ms": self.delay * 1000,
            "rate_limit": self.rate_limit,
        }

    def set_faults(self, spec: dict) -> None:
        if not isinstance(spec, dict):
            raise ValueError("faults must be a JSON object")
        known = {"clear", "fail_next", "status", "retry_after", "provider", "deliver", "hang", "path",
                 "invalid_numbers",
                 "invalid_emails", "delay_ms", "rate_limit", "twilio_codes", "x_duplicates"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        if spec.get("clear"):
            self.clear_faults()
        provider = spec.get("provider")
        if provider is not None and provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {PROVIDERS}")
        if spec.get("fail_next"):
            status = int(spec.get("status", 500))
            retry_after = spec.get("retry_after", 1 if status == 429 else None)
            self.rules.append(Rule(int(spec["fail_next"]), status, retry_after, provider, bool(spec.get("deliver")),
                                   bool(spec.get("hang")), spec.get("path")))
        elif "status" in spec or "retry_after" in spec or "deliver" in spec or "hang" in spec or "path" in spec:
            raise ValueError("status/retry_after/deliver/hang/path go with fail_next")
        if "twilio_codes" in spec:
            self.twilio_codes.update({k: int(v) for k, v in spec["twilio_codes"].items()})
        if "x_duplicates" in spec:
            self.x_duplicates = bool(spec["x_duplicates"])
        if "invalid_numbers" in spec:
            self.invalid_numbers.update(spec["invalid_numbers"])
        if "invalid_emails" in spec:
            self.invalid_emails.update(e.lower() for e in spec["invalid_emails"])
        if "delay_ms" in spec:
            self.delay = float(spec["delay_ms"] or 0) / 1000
        if "rate_limit" in spec:
            self.rate_limit = spec["rate_limit"]

    # ASGI ------------------------------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "lifespan":  # only when run with lifespan on
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    elif message["type"] == "lifespan.shutdown":
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            return
        method = scope["method"]
        path = scope["path"]
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
        if path.startswith("/_"):
            reply = self.control(method, path, body)
        else:
            try:
                reply, provider = self.route(scope, method, path, body)
            except Hang:
                await asyncio.sleep(3600)  # accepted; the client gives up first
                return
            if provider is not None and self.delay:
                await asyncio.sleep(self.delay)
        headers = reply.headers
        headers.append((b"content-length", str(len(reply.body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})

    def control(self, method: str, path: str, body: bytes) -> Reply:
        if path == "/_counts" and method == "GET":
            return _json(200, self.counts())
        if path == "/_totals" and method == "GET":
            return _json(200, {"sms": sum(self.sms.values()), "calls": sum(self.calls.values()),
                               "email": sum(self.email.values()), "requests": self.requests})
        if path == "/_messages" and method == "GET":
            sms = [dict(m.resource(), status_callback=m.callback) for m in self.sms_all]
            return _json(200, {"sms": sms, "email": self.email_log, "x": self.x, "calls": self.calls_log})
        if path == "/_reset" and method == "POST":
            self.reset()
            return _json(200, {"ok": True})
        if path == "/_faults":
            if method == "POST":
                try:
                    self.set_faults(json.loads(body or b"{}"))
                except (ValueError, TypeError) as exc:
                    return _json(400, {"error": str(exc)})
            return _json(200, self.faults_state())
        return _json(404, {"error": f"no control endpoint {method} {path}"})

    def route(self, scope, method: str, path: str, body: bytes) -> tuple[Reply, str | None]:
        if path.startswith(TWILIO_PREFIX):
            provider = "twilio"
        elif path == "/v3/mail/send":
            provider = "sendgrid"
        elif path.startswith(("/2/tweets", "/2/users/")):
            provider = "x"
        else:
            return _json(404, {"error": f"the fake provider has no {method} {path}"}), None
        reply = self.provider_request(provider, scope, method, path, body)
        self.status_counts[reply.status] = self.status_counts.get(reply.status, 0) + 1
        return reply, provider

    def provider_request(self, provider: str, scope, method: str, path: str, body: bytes) -> Reply:
        now = time.monotonic()
        sec = int(time.time())
        self.requests += 1
        self.by_provider[provider] += 1
        self.per_second[sec] = self.per_second.get(sec, 0) + 1
        per = self.per_second_by_provider[provider]
        per[sec] = per.get(sec, 0) + 1
        arrivals = self.arrivals[provider]
        arrivals.append(now)
        cutoff = now - 1.0
        while arrivals[0] <= cutoff:
            arrivals.popleft()
        if len(arrivals) > self.peak[provider]:
            self.peak[provider] = len(arrivals)

        if self.rate_limit:
            window = self.window[provider]
            while window and window[0] <= cutoff:
                window.popleft()
            if len(window) >= self.rate_limit:
                self.rejected_429 += 1
                return provider_error(provider, 429, retry_after=1, detail="Too Many Requests: rate limit exceeded")
            window.append(now)

        if not any(name == b"authorization" for name, _ in scope["headers"]):
            return {
                "twilio": lambda: twilio_error(401, 20003, "Authenticate"),
                "sendgrid": lambda: sendgrid_error(401, "authorization required"),
                "x": lambda: x_error(401),
            }[provider]()

        rule = None
        for candidate in self.rules:
            if (candidate.provider is None or candidate.provider == provider) and \
                    (candidate.path is None or candidate.path in path):
                rule = candidate
                candidate.remaining -= 1
                if candidate.remaining <= 0:
                    self.rules.remove(candidate)
                break
        if rule is not None:
            self.faults_injected += 1
            if rule.deliver:
                self.handle(provider, scope, method, path, body)
            if rule.hang:
                raise Hang()
            return provider_error(provider, rule.status, rule.retry_after)
        return self.handle(provider, scope, method, path, body)

    def handle(self, provider: str, scope, method: str, path: str, body: bytes) -> Reply:
        try:
            if provider == "twilio":
                return self.twilio(scope, method, path, body)
            if provider == "sendgrid":
                if method != "POST":
                    return sendgrid_error(405, "method not allowed")
                return self.sendgrid(body)
            if method == "GET" and path == "/2/users/me":
                return _json(200, {"data": {"id": X_USER_ID, "name": "Example Co", "username": "exampleco"}})
            if method == "GET" and path == f"/2/users/{X_USER_ID}/tweets":
                return self.user_tweets(scope.get("query_string", b"").decode("latin-1"))
            if method != "POST" or path != "/2/tweets":
                return x_error(404)
            return self.tweet(body)
        except BadRequest as exc:
            return exc.reply

    # Twilio ----------------------------------------------------------------------------------------------------

    def twilio(self, scope, method: str, path: str, body: bytes) -> Reply:
        rest = path[len(TWILIO_PREFIX):]
        account, _, resource = rest.partition("/")
        if resource == "Messages.json":
            if method == "POST":
                return self.twilio_create(account, body)
            if method == "GET":
                return self.twilio_list(account, scope.get("query_string", b"").decode("latin-1"))
        elif resource == "Calls.json":
            if method == "POST":
                return self.twilio_call(account, body)
            if method == "GET":
                return self.twilio_calls(account, scope.get("query_string", b"").decode("latin-1"))
        elif resource.startswith("Messages/") and resource.endswith(".json") and method == "GET":
            sid = resource[len("Messages/"):-len(".json")]
            message = self.sms_by_sid.get(sid)
            if message is not None and message.account == account:
                return _json(200, message.resource())
        return twilio_error(404, 20404, f"The requested resource {path} was not found")

    def twilio_create(self, account: str, body: bytes) -> Reply:
        form = parse_qs(body.decode(), keep_blank_values=True)
        to = form.get("To", [""])[0]
        sender = form.get("From", [None])[0]
        service = form.get("MessagingServiceSid", [None])[0]
        text = form.get("Body", [None])[0]
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if text is None and "MediaUrl" not in form and "ContentSid" not in form:
            return twilio_error(400, 21602, "Message body is required.")
        if to in self.invalid_numbers:
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.twilio_codes:
            code = self.twilio_codes[to]
            return twilio_error(429 if code in (21611, 20429) else 400, code, f"Twilio error {code} for {to}")
        text = text or ""
        text = self._bodies.setdefault(text, text)
        ts = time.time()
        sid = f"SM{self._prefix}{self._next():024x}"
        message = Sms(ts, sid, account, to, sender, service, text, rfc2822(ts), len(form.get("MediaUrl", ())),
                      form.get("StatusCallback", [None])[0])
        self.sms[to] = self.sms.get(to, 0) + 1
        self.sms_log.setdefault(to, []).append(message)
        self.sms_all.append(message)
        self.sms_by_sid[sid] = message
        return _json(201, message.resource(sent=False))

    def twilio_call(self, account: str, body: bytes) -> Reply:
        """An outbound call (Calls API): To, From and the Url Twilio fetches when it is answered."""
        form = parse_qs(body.decode(), keep_blank_values=True)
        to, sender = form.get("To", [""])[0], form.get("From", [""])[0]
        if not to or not sender:
            return twilio_error(400, 21201 if not to else 21213, "'To' and 'From' are required.")
        if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
            return twilio_error(400, 21205, "Url, Twiml or ApplicationSid is required.")
        sid = f"CA{self._prefix}{self._next():024x}"
        call = {"sid": sid, "account_sid": account, "to": to, "from": sender, "status": "queued",
                "direction": "outbound-api", "date_created": rfc2822(time.time()), "start_time": None,
                "url": form.get("Url", [None])[0], "uri": f"{TWILIO_PREFIX}{account}/Calls/{sid}.json"}
        self.calls[to] = self.calls.get(to, 0) + 1
        self.calls_log.append(call)
        return _json(201, {k: v for k, v in call.items() if k != "url"})  # Twilio does not echo the Url

    def twilio_calls(self, account: str, query: str) -> Reply:
        params = parse_qs(query, keep_blank_values=True)
        to, sender = params.get("To", [None])[0], params.get("From", [None])[0]
        matched = [{k: v for k, v in c.items() if k != "url"} for c in reversed(self.calls_log)
                   if c["account_sid"] == account and (not to or c["to"] == to) and (not sender or c["from"] == sender)]
        size = min(max(int(params.get("PageSize", ["50"])[0]), 1), 1000)
        uri = f"{TWILIO_PREFIX}{account}/Calls.json"
        return _json(200, {"calls": matched[:size], "end": min(size, len(matched)) - 1, "first_page_uri": uri,
                           "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None,
                           "start": 0, "uri": uri})

    def twilio_list(self, account: str, query: str) -> Reply:
        params = parse_qs(query, keep_blank_values=True)

        def one(name):
            return params.get(name, [None])[0]

        to = one("To")
        sender = one("From")
        try:
            page_size = min(max(int(one("PageSize") or 50), 1), 1000)
            page = max(int(one("Page") or 0), 0)
        except ValueError:
            return twilio_error(400, 20001, "Invalid paging parameter")
        entries = self.sms_log.get(to, []) if to else self.sms_all
        bounds = []
        for name in ("DateSent>", "DateSent<", "DateSent"):
            value = one(name)
            if value:
                try:
                    bounds.append((name, *parse_twilio_date(value)))
                except ValueError:
                    return twilio_error(400, 20001, f"Invalid {name} value: {value}")

        def keep(message: Sms) -> bool:
            if message.account != account or (sender and message.sender != sender):
                return False
            sec = int(message.ts)
            for name, bound, whole_day in bounds:
                day = sec - sec % 86400
                if name == "DateSent>" and (day if whole_day else sec) < bound:
                    return False
                if name == "DateSent<" and (day if whole_day else sec) > bound:
                    return False
                if name == "DateSent" and (day if whole_day else sec) != bound:
                    return False
            return True

        matched = [m for m in reversed(entries) if keep(m)]  # newest first, as Twilio lists them
        start = page * page_size
        chunk = [m.resource() for m in matched[start:start + page_size]]
        base = f"{TWILIO_PREFIX}{account}/Messages.json"
        filters = [(k, v) for k in ("To", "From", "DateSent>", "DateSent<", "DateSent") if (v := one(k))]

        def page_uri(n: int) -> str:
            extra = [("PageToken", f"PA{n}")] if n else []
            return f"{base}?{urlencode([*filters, ('PageSize', page_size), ('Page', n), *extra])}"

        has_next = start + page_size < len(matched)
        return _json(200, {
            "messages": chunk,
            "end": start + len(chunk) - 1 if chunk else start,
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if has_next else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        })

    # SendGrid --------------------------------------------------------------------------------------------------

    def sendgrid(self, body: bytes) -> Reply:
        try:
            payload = json.loads(body)
        except ValueError:
            return sendgrid_error(400, "Bad Request", None)
        if not isinstance(payload, dict):
            return sendgrid_error(400, "Bad Request", None)
        personalizations = payload.get("personalizations")
        if not isinstance(personalizations, list) or not personalizations:
            return sendgrid_error(400, "The personalizations field is required and must have at least one "
                                       "personalization.", "personalizations")
        if len(personalizations) > SENDGRID_MAX_PERSONALIZATIONS:
            return sendgrid_error(400, "The personalizations field may not contain more than 1000 items.",
                                  "personalizations")
        sender = payload.get("from")
        if not isinstance(sender, dict) or "@" not in str(sender.get("email", "")):
            return sendgrid_error(400, "The from object must be provided for every email send. It is an object "
                                       "that requires the email parameter, but may also contain a name parameter.",
                                  "from.email")
        template = payload.get("template_id")
        if not template and not payload.get("content"):
            return sendgrid_error(400, "Unless a valid template_id is provided, the content parameter is required. "
                                       "There must be at least one defined content block.", "content")
        subject = payload.get("subject")
        top_args = payload.get("custom_args") or {}
        recipients = []
        for i, personalization in enumerate(personalizations):
            to_list = personalization.get("to") if isinstance(personalization, dict) else None
            if not isinstance(to_list, list) or not to_list:
                return sendgrid_error(400, "The to array is required for all personalization objects, and must have "
                                           "at least one email object with a valid email address.",
                                      f"personalizations.{i}.to")
            if not (subject or template or personalization.get("subject")):
                return sendgrid_error(400, "The subject is required. You can get around this requirement if you use "
                                           "a template with a subject defined or if every personalization has a "
                                           "subject defined.", "subject")
            args = personalization.get("custom_args") or {}
            delivery_id = args.get("delivery_id", top_args.get("delivery_id"))
            for j, recipient in enumerate(to_list):
                address = recipient.get("email") if isinstance(recipient, dict) else None
                if not isinstance(address, str) or "@" not in address or address.lower() in self.invalid_emails:
                    return sendgrid_error(400, "Does not contain a valid address.",
                                          f"personalizations.{i}.to.{j}.email")
                recipients.append((address, delivery_id, personalization.get("subject") or subject))
        message_id = f"{self._prefix}{self._next():014x}"
        content = payload.get("content")
        for address, delivery_id, personal_subject in recipients:
            self.email[address] = self.email.get(address, 0) + 1
            self.email_delivery_ids.setdefault(address, []).append(delivery_id)
            self.email_log.append({"to": address, "delivery_id": delivery_id, "message_id": message_id,
                                   "subject": personal_subject, "from": sender.get("email"), "content": content,
                                   "template_id": template})
        return Reply(202, b"", [(b"x-message-id", message_id.encode())])

    # X ---------------------------------------------------------------------------------------------------------

    def tweet(self, body: bytes) -> Reply:
        try:
            payload = json.loads(body)
        except ValueError:
            return x_error(400, "Request body is not valid JSON.")
        if not isinstance(payload, dict):
            return x_error(400, "Request body must be a JSON object.")
        text = payload.get("text")
        if not text and not (payload.get("media") or {}).get("media_ids"):
            return x_error(400, "One or more parameters to your request was invalid: text or media is required.")
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        if self.x_duplicates and any(post["text"] == text for post in self.x):
            return x_error(403, "You are not allowed to create a Tweet with duplicate content.")
        tweet_id = str(self._tweet_base + self._next())
        self.x.append({"id": tweet_id, "text": text, "in_reply_to_tweet_id": reply_to,
                       "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")})
        return _json(201, {"data": {"edit_history_tweet_ids": [tweet_id], "id": tweet_id, "text": text}})


    def user_tweets(self, query: str) -> Reply:
        params = parse_qs(query)
        since = params.get("start_time", [""])[0]
        posts = [{"id": p["id"], "text": p["text"], "edit_history_tweet_ids": [p["id"]]}
                 for p in reversed(self.x) if not since or p["created_at"][:19] >= since[:19]]
        posts = posts[:int(params.get("max_results", ["10"])[0])]
        meta = {"result_count": len(posts), **({"newest_id": posts[0]["id"], "oldest_id": posts[-1]["id"]}
                                                if posts else {})}
        return _json(200, {"data": posts, "meta": meta} if posts else {"meta": meta})


# --- running it -----------------------------------------------------------------------------------------------


def _pick(kind: str) -> str:
    """uvicorn's 'auto' already prefers httptools/uvloop when installed; say which one we got."""
    module = {"http": "httptools", "loop": "uvloop"}[kind]
    try:
        __import__(module)
        return module
    except ImportError:
        return {"http": "h11", "loop": "asyncio"}[kind]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.provider", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second per provider")
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    args = parser.parse_args(argv)

    import uvicorn

    http = _pick("http") if args.http == "auto" else args.http
    loop = _pick("loop") if args.loop == "auto" else args.loop
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say so, and without it every
    # response (headers and body are two writes) waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(4096)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    app = FakeProvider(rate_limit=args.rate_limit)
    config = uvicorn.Config(
        app,
        http=http,
        loop=loop,
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
        backlog=4096,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
    )
    print(f"fake provider listening on http://127.0.0.1:{port} (http={http}, loop={loop})", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
