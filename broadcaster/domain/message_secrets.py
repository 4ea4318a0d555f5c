"""Messages outside any statement, and the secrets in them.

An approval request, a sign-up confirmation, a holding link or an update reminder is a message:
rendered once from its templates, hashed, and sent through the delivery engine like a statement's
words. A link's token or a texted code must not be stored where the database alone would reveal
it, yet a retry must send the same words: so the stored words hold a marker (`TOKEN`, `CODE`), and
the value is derived when it is sent, under the secret key (which is not in the database), from the
delivery (its id and random nonce) and what the message is bound to (`binding`: e.g. the approval
request, its approver and the content hash). The capability that made the message derives the same
values to keep their SHA-256 and check what comes back.
"""

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

TOKEN = "⟦token⟧"  # a link's token (`nonce.signature`)
CODE = "⟦code⟧"  # a code to type or text back (digits only: carriers treat words like STOP as opt-outs)
CODE_DIGITS = 6


class MessageKind(StrEnum):
    APPROVAL_REQUEST = "approval request"  # an approver asked to approve one statement's words
    SIGNUP_CONFIRMATION = "signup confirmation"  # a public sign-up's double opt-in
    HOLDING_LINK = "holding link"  # a standing link to switch a holding statement on
    UPDATE_REMINDER = "update reminder"  # an author reminded that the promised next update is due
    ALERT_NOTICE = "alert notice"  # monitoring drafted (or proposed resolving) a statement: review and submit it
    POSTMORTEM = "postmortem"  # a published postmortem, to the subscribers who asked for postmortems
    EVENT = "event"  # an event (domain.event_types) to an endpoint an admin registered (broadcaster.events)


# Messages to customers (subscribers), not to our own people: each carries its one-click unsubscribe
# link, and that link opts its subscriber out, as a statement's email does.
SUBSCRIBER_MESSAGES = frozenset({MessageKind.POSTMORTEM.value})


@dataclass(frozen=True)
class Secrets:
    nonce: str  # what is hashed and stored (SHA-256) to find and check the link
    token: str  # `nonce.signature`: what the link carries
    code: str


def _mac(secret_key: str, *parts) -> str:
    message = ":".join(str(part) for part in parts)
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def link_signature(secret_key: str, *parts) -> str:
    """HMAC under the secret key over what a link is bound to (32 hex characters)."""
    return _mac(secret_key, *parts)[:32]


def secrets_for(secret_key: str, binding: list[str], delivery_id: int, delivery_nonce: str) -> Secrets:
    """The token and code of one delivery of a message bound to `binding`."""
    nonce = _mac(secret_key, "message", delivery_id, delivery_nonce)[:32]
    code = int(_mac(secret_key, "code", *binding, nonce), 16) % 10**CODE_DIGITS
    return Secrets(nonce, f"{nonce}.{link_signature(secret_key, *binding, nonce)}", f"{code:0{CODE_DIGITS}d}")


def fill(fields: dict[str, str], secrets: Secrets) -> dict[str, str]:
    """The words as they go out: the markers replaced by this delivery's token and code."""
    return {name: value.replace(TOKEN, secrets.token).replace(CODE, secrets.code) for name, value in fields.items()}


def hidden(fields: dict[str, str]) -> dict[str, str]:
    """The words as a log may show them: the markers say the secret is hidden."""
    return {name: value.replace(TOKEN, "[hidden]").replace(CODE, "[hidden]") for name, value in fields.items()}
