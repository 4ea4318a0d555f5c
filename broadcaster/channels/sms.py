"""SMS through Twilio's Programmable Messaging API: one request per recipient."""

import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import requests
import smsutil
import urllib3
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ..config import Settings
from ..contacts import normalise_phone
from ..render.limits import LimitCheck
from .base import (
    Channel,
    ErrorTable,
    Kind,
    SendContext,
    SendResult,
    Target,
    TransportError,
    request_never_left,
    retry_after_seconds,
)

# The SDK logs every request at INFO, phone numbers and message bodies included: customers'
# numbers do not belong in worker logs (the send log has what is needed), and it costs CPU.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class _HttpClient(HttpClient):
    """The Twilio SDK's requests, sent with urllib3 straight: requests' per-call machinery
    (preparing, hooks, cookies, re-reading the proxy and CA variables, stat()ing the CA bundle)
    was half an SMS's CPU. The SDK still builds every request and reads every answer.

    Errors come out as the requests exceptions the SDK's own client raises, so `_error` tells a
    request that never left (retry) from one that may have been accepted (reconcile)."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__(logging.getLogger("twilio.http_client"), is_async=False, timeout=timeout)
        self.last_response: Response | None = None  # the SDK's errors lack headers (Retry-After)
        self.headers: dict[str, str] = {}  # sent with every request, like a requests session's
        proxy = requests.utils.get_environ_proxies(base_url).get(urlsplit(base_url).scheme)
        ca_bundle = requests.utils.extract_zipped_paths(requests.utils.DEFAULT_CA_BUNDLE_PATH)
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or ca_bundle
        options = {"retries": False, "ca_certs": ca_bundle, "cert_reqs": "CERT_REQUIRED", "maxsize": 4}
        self.pool = urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> Response:
        self.last_response = None
        headers = {**self.headers, **(headers or {})}
        if auth:
            headers["Authorization"] = urllib3.util.make_headers(basic_auth=":".join(auth))["authorization"]
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        body = None
        if data and "json" in headers.get("Content-Type", ""):
            body = json.dumps(data)
        elif data:
            body = urlencode({k: v for k, v in data.items() if v is not None}, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        seconds = timeout or self.timeout
        try:
            answer = self.pool.request(method.upper(), url, body=body, headers=headers, redirect=allow_redirects,
                                       timeout=urllib3.Timeout(connect=seconds, read=seconds))
        except urllib3.exceptions.HTTPError as e:
            raise _as_requests_error(e) from e
        self.last_response = Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)
        return self.last_response


def _as_requests_error(e: urllib3.exceptions.HTTPError) -> requests.RequestException:
    """What requests' adapter would have raised for this urllib3 error."""
    if isinstance(e, urllib3.exceptions.ConnectTimeoutError):
        return requests.ConnectTimeout(e)
    if isinstance(e, urllib3.exceptions.MaxRetryError) and e.reason is not None:
        return _as_requests_error(e.reason) if isinstance(e.reason, urllib3.exceptions.HTTPError) \
            else requests.ConnectionError(e)
    if isinstance(e, urllib3.exceptions.ReadTimeoutError):
        return requests.ReadTimeout(e)
    return requests.ConnectionError(e)


# https://www.twilio.com/docs/api/errors: what each code means for the delivery.
TWILIO_ERRORS = ErrorTable(
    permanent={"21211", "21614", "21612", "21408"},  # invalid / not a mobile / unreachable / region not enabled
    opted_out={"21610"},  # the recipient replied STOP: Twilio will refuse every message to them
    transient={"21611", "20429", "14107"},  # the sender's queue is full; too many requests
    credentials={"20003", "20005", "20008"},  # authentication failed; account suspended
)


class TwilioSms:
    provider = "twilio"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.account = settings.twilio_account_sid
        base_url = (settings.twilio_api_base or "https://api.twilio.com").rstrip("/")
        self.http = _HttpClient(base_url, timeout=settings.provider_timeout_seconds)
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=self.http)
        self.client.api.base_url = base_url
        self.messages = self.client.messages  # resolves (and imports) the SDK's lazy chain once
        # A messaging service picks the sender from its pool; a plain number is the fallback.
        if settings.twilio_messaging_service_sid:
            self.sender = {"messaging_service_sid": settings.twilio_messaging_service_sid}
        else:
            self.sender = {"from_": settings.twilio_from}

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            extra = {"status_callback": target.status_callback_url} if target.status_callback_url else {}
            try:
                message = self.messages.create(to=target.address, body=fields["text"], **self.sender, **extra)
            except (TwilioException, requests.RequestException) as e:
                raise self._error(e) from e
            results.append(SendResult(target.delivery_id, "sent", message.sid))
        return results

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        # Filter on date_created here, not DateSent on the server: a message still queued
        # at Twilio has no date_sent yet, and missing it would mean texting twice.
        since = datetime.fromisoformat(since_iso)
        since = since if since.tzinfo else since.replace(tzinfo=UTC)  # we store UTC
        try:
            for message in self.messages.page(to=target.address, page_size=50):
                created = message.date_created
                if message.body == fields["text"] and (created is None or created >= since):
                    return message.sid
        except (TwilioException, requests.RequestException) as e:
            raise TransportError(f"twilio: could not list messages: {e}") from e
        return None

    def _error(self, e: Exception) -> TransportError:
        status = getattr(e, "status", None)
        if isinstance(e, requests.RequestException):
            if request_never_left(e):
                return TransportError(f"twilio: not sent, the request never reached Twilio: {e}")
            return TransportError(f"twilio: no answer after the request was sent, it may have gone out: {e}",
                                  code="no answer", ambiguous=True)
        if not isinstance(status, int):  # a client-side TwilioException: raised before any request
            return TransportError(f"twilio: {e}")
        code = str(e.code if getattr(e, "code", None) is not None else status)
        text = getattr(e, "msg", None) or getattr(e, "detail", None) or getattr(e, "title", "")
        message = f"twilio {status} ({code}): {text}"
        headers = self.http.last_response.headers if self.http.last_response else {}
        return TWILIO_ERRORS.error(message, code, status, retry_after_seconds(headers.get("Retry-After")))


def sms_encoding(text: str) -> tuple[str, str | None]:
    """('GSM-7', None) or ('UCS-2', the first character GSM-7 cannot carry)."""
    if smsutil.split(text).encoding == "gsm0338":
        return "GSM-7", None
    culprit = next(ch for ch in text if smsutil.split(ch).encoding != "gsm0338")
    return "UCS-2", culprit


def check_sms(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    text = fields["text"]
    split = smsutil.split(text)
    encoding, culprit = sms_encoding(text)
    detail = f"{encoding}, {len(text)} characters"
    if culprit:
        detail += f"; UCS-2 because of {culprit!r} (U+{ord(culprit):04X})"
    yield LimitCheck("sms", "segments", len(split.parts), settings.sms_max_segments, "segments", detail)
    # Carriers filter long concatenated messages; Twilio advises 320 characters at most.
    yield LimitCheck("sms", "length", len(text), settings.sms_max_chars, "characters", "deliverability")


CHANNEL = Channel(
    "sms", Kind.RECIPIENT, TwilioSms, address="phone", normalise=normalise_phone, limits=check_sms,
    configured=lambda s: bool(s.twilio_account_sid and s.twilio_auth_token),
    rate=lambda s: s.twilio_rate,
)
