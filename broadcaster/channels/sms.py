"""SMS through Twilio's Programmable Messaging API: one request per recipient."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
import requests.adapters
import smsutil
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
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


class _PoolKeyCache(requests.adapters.HTTPAdapter):
    """requests asks the file system whether the CA bundle is a directory on every request (a
    tenth of an SMS's CPU on a busy worker); the answer does not change while the worker runs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._keys: dict[tuple, tuple[dict, dict]] = {}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        url = urlsplit(request.url)
        key = (url.scheme.lower(), url.hostname, url.port, verify, tuple(cert) if isinstance(cert, list) else cert)
        if key not in self._keys:
            self._keys[key] = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params, pool_kwargs = self._keys[key]
        return dict(host_params), dict(pool_kwargs)


class _HttpClient(TwilioHttpClient):
    # The SDK's exceptions carry status and code but not the response headers, and the
    # client's own copy is named _test_only_last_response; keep ours to read Retry-After.
    # One transport per thread (see transport_for), so this is never shared mid-call.
    last_response = None

    def __init__(self, base_url: str, timeout: float):
        super().__init__(timeout=timeout)
        # requests re-reads the proxy and CA-bundle variables of the whole environment on every
        # request, a fifth of an SMS's CPU. They do not change while a worker runs: read them
        # once, for the one host this client talks to.
        found = self.session.merge_environment_settings(base_url, {}, None, None, None)
        self.proxy = found["proxies"]
        self.session.verify = found["verify"]
        self.session.trust_env = False
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, _PoolKeyCache())

    def request(self, *args, **kwargs):
        self.last_response = None
        self.last_response = super().request(*args, **kwargs)
        return self.last_response


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
