"""What the Twilio channels share (SMS, and the calls back to IVR callers): the SDK's HTTP client,
Twilio's error table, and what an SDK error means for a delivery. A helper, not a channel (its
name starts with "_")."""

import json
import logging
import os
from functools import lru_cache
from urllib.parse import quote_plus, urlencode, urlsplit

import requests
import urllib3
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.connection import HTTPConnection, HTTPSConnection

from ..config import Settings
from .base import ErrorTable, TransportError, request_never_left, retry_after_seconds

# The SDK logs every request at INFO, phone numbers and message bodies included: customers'
# numbers do not belong in worker logs (the send log has what is needed), and it costs CPU.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class TwilioHttpClient(HttpClient):
    """The Twilio SDK's requests, sent with urllib3 straight: requests' per-call machinery
    (preparing, hooks, cookies, re-reading the proxy and CA variables, stat()ing the CA bundle)
    was half an SMS's CPU. The SDK still builds every request and reads every answer.

    Errors come out as the requests exceptions the SDK's own client raises, so `transport_error` tells a
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
        # Without a proxy, requests to the API's own origin go straight to its connection pool: the
        # manager's URL parsing and pool lookup on every request were a tenth of an SMS's HTTP time.
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme != "https":  # what the manager leaves out for plain HTTP (the fake on loopback)
            options = {k: v for k, v in options.items() if k not in urllib3.poolmanager.SSL_KEYWORDS}
        self.direct = None if proxy else urllib3.connection_from_url(self.origin, **options)
        if self.direct is not None:
            self.direct.ConnectionCls = _ONE_WRITE[parts.scheme]

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
            body = urlencode({k: v for k, v in data.items() if v is not None}, doseq=True, quote_via=_quoted)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        seconds = timeout or self.timeout
        limits = urllib3.Timeout(connect=seconds, read=seconds)
        try:
            if self.direct is not None and not allow_redirects and url.startswith(self.origin + "/"):
                answer = self.direct.urlopen(method.upper(), url[len(self.origin):], body=body, headers=headers,
                                             redirect=False, timeout=limits, assert_same_host=False)
            else:
                answer = self.pool.request(method.upper(), url, body=body, headers=headers,
                                           redirect=allow_redirects, timeout=limits)
        except urllib3.exceptions.HTTPError as e:
            raise _as_requests_error(e) from e
        self.last_response = Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)
        return self.last_response


class _HeadersWithBody:
    """A request's headers and its body in one write to the socket. urllib3 writes the headers, then
    the body: two TCP segments (two TLS records over HTTPS) per SMS, and the server woken for each.
    One write is one segment for this small form, a syscall fewer here and a wake-up fewer there."""

    _held: bytes | None = None
    _body_follows = False

    def request(self, method, url, body=None, headers=None, **options):
        self._body_follows = bool(body)
        try:
            super().request(method, url, body=body, headers=headers, **options)
        finally:
            held, self._held, self._body_follows = self._held, None, False
            if held:  # no body was written after all: the headers go alone
                super().send(held)

    def send(self, data):
        if self._body_follows and self._held is None:  # the headers (http.client writes them in one piece)
            self._held = bytes(data)
            return
        if self._held is not None:
            data, self._held = self._held + bytes(data), None
        super().send(data)


class _HTTPConnection(_HeadersWithBody, HTTPConnection):
    pass


class _HTTPSConnection(_HeadersWithBody, HTTPSConnection):
    pass


_ONE_WRITE = {"http": _HTTPConnection, "https": _HTTPSConnection}


@lru_cache(maxsize=1024)
def _quoted(value: str, safe: str = "", encoding=None, errors=None) -> str:
    # A chunk's thousand SMS carry the same body and sender: quoting them is a Python loop over
    # every byte (urllib's), done once per distinct text instead of once per message.
    return quote_plus(value, safe, encoding, errors)


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


def twilio_client(settings: Settings) -> tuple[Client, TwilioHttpClient]:
    """The SDK's client on our HTTP client (timeouts, errors we can read), at the configured base."""
    base_url = (settings.twilio_api_base or "https://api.twilio.com").rstrip("/")
    http = TwilioHttpClient(base_url, timeout=settings.provider_timeout_seconds)
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
    client.api.base_url = base_url
    return client, http


def transport_error(e: Exception, http: TwilioHttpClient) -> TransportError:
    """What a Twilio SDK error means: never sent (retry), maybe accepted (reconcile), or the code's
    meaning in TWILIO_ERRORS."""
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
    headers = http.last_response.headers if http.last_response else {}
    return TWILIO_ERRORS.error(message, code, status, retry_after_seconds(headers.get("Retry-After")))


SDK_ERRORS = (TwilioException, requests.RequestException)  # what a call through the SDK may raise
