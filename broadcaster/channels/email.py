"""Email through SendGrid's v3 mail/send: one request carries up to 1000 recipients."""

import http.client
import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..config import Settings
from ..domain.contacts import normalise_email
from ..domain.delivery_status import DeliveryStatus
from ..render.limits import LimitCheck
from .base import (
    Channel,
    ErrorTable,
    Kind,
    SendContext,
    SendResult,
    SignUp,
    Target,
    TransportError,
    error_results,
    request_never_left,
    retry_after_seconds,
)

# The SDK is imported where a transport is made and sends: rendering, listing the channels or checking
# an address (`subscribers add`) does not load it.
if TYPE_CHECKING:
    from python_http_client.exceptions import HTTPError
    from sendgrid.helpers.mail import From


class SendGridEmail:
    provider = "sendgrid"
    account = "sendgrid"

    def __init__(self, settings: Settings):
        from sendgrid import SendGridAPIClient
        from sendgrid.helpers.mail import From

        self.batch_size = CHANNEL.batch_size(settings)
        self.sender = From(settings.email_from, settings.company_name)
        kwargs = {"host": settings.sendgrid_host.rstrip("/")} if settings.sendgrid_host else {}
        self.client = SendGridAPIClient(settings.sendgrid_api_key, **kwargs)
        self.client.client.timeout = settings.provider_timeout_seconds  # urllib waits forever otherwise

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        if not targets:  # a mail without personalizations is a 400
            return []
        if context is not None and context.statement_id and not all(t.unsubscribe_url for t in targets):
            # Every statement email carries its one-click unsubscribe link (RFC 8058; mailbox providers
            # require it of bulk senders). Paused, not failed: they go once the setting is there.
            raise TransportError("email: no unsubscribe link for the List-Unsubscribe header: set "
                                 "BROADCASTER_PUBLIC_URL on the workers", code="no unsubscribe link", credentials=True)
        try:
            return self._send(fields, targets)
        except TransportError as e:
            if not (e.code == "400" and e.field and e.field.startswith("personalizations") and len(targets) > 1):
                raise
        # SendGrid refuses a whole batch for one bad address: split it and resend the halves, so
        # one bad address costs a few requests instead of failing every good one with it.
        half = len(targets) // 2
        return self._part(fields, targets[:half]) + self._part(fields, targets[half:])

    def _part(self, fields: dict[str, str], targets: list[Target]) -> list[SendResult]:
        """Results for part of a split batch: an error here is that part's, the rest went out."""
        try:
            return self.notify(fields, targets, None)  # type: ignore[arg-type]
        except TransportError as e:
            return error_results(targets, e)

    def _send(self, fields: dict[str, str], targets: list[Target]) -> list[SendResult]:
        # The words as the SDK's helper writes them; the thousand recipients' parts as `personalization`
        # writes them, in the same JSON (the helper's objects cost as much as the request itself).
        body = mail_body(self.sender, fields)
        body["personalizations"] = [personalization(target) for target in targets]
        from python_http_client.exceptions import HTTPError

        try:
            response = self.client.send(body)
        except HTTPError as e:
            raise _error(e) from e
        except (OSError, http.client.HTTPException) as e:  # URLError, refused, timeout, dropped
            if request_never_left(e):
                raise TransportError(f"sendgrid: not sent, the request never reached SendGrid: {e}") from e
            # Written, then no answer: the batch may have gone out. Resending it would mail every
            # recipient twice; an operator checks SendGrid's activity for this batch first.
            raise TransportError(f"sendgrid: no answer after the batch of {len(targets)} was sent "
                                 f"(delivery ids {targets[0].delivery_id}..{targets[-1].delivery_id}); it may "
                                 f"have gone out: {e!r}", code="no answer", ambiguous=True) from e
        batch_id = response.headers.get("X-Message-Id")
        return [SendResult(t.delivery_id, DeliveryStatus.SENT, batch_id) for t in targets]


def mail_body(sender: "From", fields: dict[str, str]) -> dict:
    """The request body without its personalizations, from the SDK's helper."""
    from sendgrid.helpers.mail import Mail

    return Mail(from_email=sender, subject=fields["subject"], plain_text_content=fields["body_text"],
                html_content=fields["body_html"]).get()


def personalization(target: Target) -> dict:
    """One recipient's part, as the helper's `Personalization.get()` makes it: nobody sees the others'
    addresses, the address goes verbatim (`To("x")` reads a bare word as a display name, then crashes),
    and the delivery id rides along, which SendGrid echoes back in every event webhook."""
    part: dict = {"to": [{"email": target.address}]}
    if target.unsubscribe_url:  # RFC 8058 one-click, per recipient
        part["headers"] = {"List-Unsubscribe": f"<{target.unsubscribe_url}>",
                           "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    part["custom_args"] = {"delivery_id": str(target.delivery_id)}
    return part


# https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send#responses
SENDGRID_ERRORS = ErrorTable(credentials={"401", "403"}, transient={"429"})


def _error(e: "HTTPError") -> TransportError:
    status, headers = e.status_code, e.headers or {}
    text, field = _first_error(e.body)
    error = SENDGRID_ERRORS.error(f"sendgrid {status}: {text}", str(status), status,
                                  _retry_after(headers) if status == 429 else None)
    error.field = field
    return error


def _first_error(body: bytes | str | None) -> tuple[str, str | None]:
    """SendGrid's first error message, and the request field it names (if any)."""
    try:
        first = json.loads(body)["errors"][0]
        return first["message"], first.get("field")
    except (ValueError, TypeError, KeyError, IndexError):
        return (body.decode(errors="replace") if isinstance(body, bytes) else str(body or ""))[:200], None


def _retry_after(headers) -> float | None:
    if headers.get("Retry-After"):
        return retry_after_seconds(headers["Retry-After"])
    try:
        if headers.get("X-RateLimit-Reset"):  # an epoch second
            return max(float(headers["X-RateLimit-Reset"]) - time.time(), 1.0)
    except ValueError:
        pass
    return None


def check_email(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    yield LimitCheck("email", "subject length", len(fields["subject"]), settings.email_subject_max_chars, "characters")


CHANNEL = Channel(
    "email", Kind.RECIPIENT, SendGridEmail, address="email", normalise=normalise_email, limits=check_email,
    # A link to a confirm page that subscribes on POST (a mail scanner only GETs); every confirmation
    # together capped, so the form cannot make us mail thousands of strangers in an hour.
    signup=SignUp(by="link", rate_keys=lambda s, _: ((s.email_signup_rate, "all:email"),)),
    configured=lambda s: bool(s.sendgrid_api_key), rate=lambda s: s.sendgrid_rate,
    batch_size=lambda s: min(s.email_batch_size, 1000),  # SendGrid rejects more personalizations
)
