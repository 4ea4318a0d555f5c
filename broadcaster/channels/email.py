"""Email through SendGrid's v3 mail/send: one request carries up to 1000 recipients."""

import http.client
import json
import time
from collections.abc import Iterator

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, From, Header, Mail, Personalization, To

from ..config import Settings
from ..contacts import normalise_email
from ..render.limits import LimitCheck
from .base import Channel, Kind, SendContext, SendResult, Target, TransportError, retry_after_seconds


class SendGridEmail:
    provider = "sendgrid"
    account = "sendgrid"

    def __init__(self, settings: Settings):
        self.batch_size = CHANNEL.batch_size(settings)
        self.sender = From(settings.email_from, settings.company_name)
        kwargs = {"host": settings.sendgrid_host.rstrip("/")} if settings.sendgrid_host else {}
        self.client = SendGridAPIClient(settings.sendgrid_api_key, **kwargs)
        self.client.client.timeout = 10  # urllib waits forever otherwise

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        if not targets:  # a mail without personalizations is a 400
            return []
        mail = Mail(from_email=self.sender, subject=fields["subject"],
                    plain_text_content=fields["body_text"], html_content=fields["body_html"])
        # One personalization per recipient: nobody sees the others' addresses, and each
        # carries its delivery id, which SendGrid echoes back in every event webhook.
        for i, target in enumerate(targets):
            to = To()
            to.email = target.address  # verbatim: To("x") reads a bare word as a display name, then crashes
            p = Personalization()
            p.add_to(to)
            p.add_custom_arg(CustomArg("delivery_id", str(target.delivery_id)))
            if target.unsubscribe_url:  # RFC 8058 one-click, per recipient
                p.add_header(Header("List-Unsubscribe", f"<{target.unsubscribe_url}>"))
                p.add_header(Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
            mail.add_personalization(p, index=i)  # the helper prepends by default
        try:
            response = self.client.send(mail)
        except HTTPError as e:
            raise _error(e) from e
        except (OSError, http.client.HTTPException) as e:  # URLError, refused, timeout, dropped
            raise TransportError(f"sendgrid: {e}") from e
        batch_id = response.headers.get("X-Message-Id")
        return [SendResult(t.delivery_id, "sent", batch_id) for t in targets]


def _error(e: HTTPError) -> TransportError:
    status, headers = e.status_code, e.headers or {}
    message = f"sendgrid {status}: {_first_error(e.body)}"
    if status == 429:
        return TransportError(message, code="429", retry_after=_retry_after(headers))
    return TransportError(message, permanent=400 <= status < 500, code=str(status))


def _first_error(body: bytes | str | None) -> str:
    try:
        return json.loads(body)["errors"][0]["message"]
    except (ValueError, TypeError, KeyError, IndexError):
        return (body.decode(errors="replace") if isinstance(body, bytes) else str(body or ""))[:200]


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
    configured=lambda s: bool(s.sendgrid_api_key), rate=lambda s: s.sendgrid_rate,
    batch_size=lambda s: min(s.email_batch_size, 1000),  # SendGrid rejects more personalizations
)
