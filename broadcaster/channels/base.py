"""What every channel shares: the channel declaration, targets, the send context, results, and
the error that says whether to retry.

A channel module declares one ``CHANNEL = Channel(...)``: its name, whether it is a live
surface or goes to each subscriber, the subscriber field holding its address, its limits,
its rate, whether its provider is configured, and its transport. The registry
(``broadcaster.channels``) finds the declarations; nothing outside a channel's module names it.

A transport is one short class with one ``notify`` method. It receives the stored,
approved rendition fields (never re-rendered) and a batch of targets (at most its
``batch_size``), makes the provider call(s) and returns one SendResult per target.
A failure of the whole call is a TransportError, as the channel's own error table maps it:
``permanent`` says never retry (invalid number), ``retry_after`` honours the provider's hint,
``ambiguous`` says the provider may have accepted the message all the same (a read timeout, a
dropped connection after the request was written, a 5xx): never resent blindly, reconciled
first; ``credentials`` says the provider refused our key: the channel is paused, nothing failed.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from ..config import Settings
from ..render.limits import LimitCheck


class Kind(StrEnum):
    LIVE = "live"  # one target, the surface itself; goes live within seconds on the `live` queue
    RECIPIENT = "recipient"  # one target per subscriber; fans out on the `bulk` queue
    # Renditions only (approved with the statement); publishing writes no delivery for it: its
    # deliveries are created one by one later (the social reply queue), and go on the `live` queue.
    ON_DEMAND = "on demand"
    # One target per person on a named internal list (a stakeholder audience), written at publish by the
    # capability that keeps the lists, sent on the `bulk` queue; in the audit like every channel publish writes.
    LIST = "list"


@dataclass(frozen=True)
class Target:
    delivery_id: int
    address: str  # an email address, an E.164 number, a URL, or the channel's own name for live surfaces
    # Transport fields outside the approved text, per recipient (None without a public URL):
    unsubscribe_url: str | None = None  # RFC 8058 one-click link, signed
    status_callback_url: str | None = None  # where the provider reports delivery
    # The subscriber fields the channel asked for in `Channel.target_details` (e.g. a signing secret).
    details: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class SendContext:
    """What the words belong to: a statement (its id, incident and version), or a message (its kind)."""

    statement_id: int | None = None
    incident_id: int | None = None
    version: int | None = None
    reply_to: str | None = None  # provider id of this incident's previous post, for channels that thread
    content_hash: str | None = None  # the approved hash (a message's own), for channels that tell the receiver
    kind: str = "statement"  # or the message's kind (domain.message_secrets.MessageKind)
    locale: str | None = None  # the language of the words: one batch carries one language
    # This version ends its incident (resolved, maintenance completed): what a channel keeps open for the
    # incident (a helpdesk macro) is retired with it.
    closes: bool = False


@dataclass(frozen=True)
class SendResult:
    delivery_id: int
    status: str  # DeliveryStatus.SENT, or SIMULATED for the log provider; ERROR: see `error`
    provider_message_id: str | None = None
    detail: str = ""
    # For one target of a batch that partly went out (a SendGrid batch split around a bad address).
    error: "TransportError | None" = None


def error_results(targets: "Iterable[Target]", error: "TransportError") -> list[SendResult]:
    return [SendResult(t.delivery_id, "error", detail=str(error), error=error) for t in targets]


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (at least 1), or None: absent, or an HTTP date, which
    leaves the wait to our own backoff."""
    try:
        return max(float(value), 1.0) if value else None
    except ValueError:
        return None


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False, code: str | None = None,
                 retry_after: float | None = None, opted_out: bool = False, ambiguous: bool = False,
                 credentials: bool = False, attempted: bool = True):
        super().__init__(message)
        # False: the provider was never called (our own budget said "not yet"): no attempt is spent,
        # and the delivery waits in its row for `retry_after`, never in a worker thread.
        self.attempted = attempted
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.opted_out = opted_out  # the receiver said "never again": the subscriber is opted out too
        self.ambiguous = ambiguous  # it may have gone out: `unknown`, reconciled, never retried at once
        self.credentials = credentials  # our key was refused: pause the channel until it works again
        self.field: str | None = None  # the request field the provider blamed, when it says


def request_never_left(exc: BaseException) -> bool:
    """True when a requests/urllib error proves the provider never saw the request: the
    connection was refused, the name did not resolve, or connecting timed out. Anything else
    (a read timeout, a connection dropped after the request was written) may come after the
    provider accepted it."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc)
        return any(sign in text for sign in _NEVER_CONNECTED)
    return _never_connected_os_error(exc)


_NEVER_CONNECTED = ("NewConnectionError", "NameResolutionError", "ConnectionRefusedError",
                    "Failed to resolve", "Name or service not known", "Connection refused")


def _never_connected_os_error(exc: BaseException) -> bool:
    import socket
    from urllib.error import URLError

    reason = exc.reason if isinstance(exc, URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror) or (
        isinstance(reason, str) and any(sign in reason for sign in _NEVER_CONNECTED))


class Transport(Protocol):
    provider: str  # "twilio", "sendgrid", "x", "builtin", "webhook", "log"
    batch_size: int  # targets one notify() call can carry
    account: str  # the provider account a shared rate limit applies to

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]: ...


class ErrorTable:
    """One channel's provider error codes and what each means, in that channel's module."""

    def __init__(self, permanent: set[str] = frozenset(), opted_out: set[str] = frozenset(),
                 transient: set[str] = frozenset(), credentials: set[str] = frozenset()):
        self.permanent, self.opted_out = frozenset(permanent), frozenset(opted_out)
        self.transient, self.credentials = frozenset(transient), frozenset(credentials)

    def error(self, message: str, code: str, status: int, retry_after: float | None = None) -> TransportError:
        """The TransportError for a provider answer with this HTTP status and error code. Codes
        the table does not name fall back on the status: 429 retry, other 4xx permanent (the
        provider documents them as not accepted), 5xx ambiguous (it may have accepted)."""
        if code in self.credentials:
            return TransportError(message, code=code, credentials=True)
        if code in self.opted_out:
            return TransportError(message, permanent=True, code=code, opted_out=True)
        if code in self.permanent:
            return TransportError(message, permanent=True, code=code)
        if code in self.transient or status == 429:
            return TransportError(message, code=code, retry_after=retry_after)
        if status >= 500:
            return TransportError(message, code=code, ambiguous=True)
        return TransportError(message, permanent=400 <= status < 500, code=code)


@runtime_checkable
class Reconcilable(Protocol):
    """A transport that can tell, after a crash, whether a message went out."""

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        """The provider message id if the provider has this message, else None."""
        ...


LimitChecker = Callable[[dict[str, str], Settings], Iterable[LimitCheck]]


def _always(_: Settings) -> bool:
    return True


def _no_rate(_: Settings) -> None:
    return None


def _one(_: Settings) -> int:
    return 1


def _no_keys(_: Settings, __: str) -> tuple[tuple[str, str], ...]:
    return ()


def _no_rate(_: Settings) -> None:
    return None


def _no_most(_: Settings) -> None:
    return None


@dataclass(frozen=True)
class Confirmation:
    """A sign-up's confirmation message on its way to the address that signed up: the fields
    rendered from ``templates/<channel>/signup/message/`` (with the link or the code in them)."""

    address: str
    fields: dict[str, str]
    token: str  # the sign-up's own secret token (a channel may derive the subscriber's credentials from it)


@dataclass(frozen=True)
class SignUp:
    """How the public subscribe form signs up an address on this channel, with a double opt-in
    that proves the address belongs to whoever typed it. The form's field, the message and the
    pages' words are in ``templates/<channel>/signup/`` (see ``broadcaster/signup.py``)."""

    # "link": the message carries a link to a confirm page, which subscribes on POST only;
    # "code": the message carries a one-time code, typed back on the form.
    by: str
    # The address as typed by anyone on the internet: stricter than `Channel.normalise` where it
    # must be (a webhook URL is checked before any request). InvalidInput: a typo; NotAllowed: a
    # refusal, audited. None: `Channel.normalise`.
    check: Callable[[Settings, str], str] | None = None
    # Delivers the message; returns what the "check your ..." page may say about it ({} if
    # nothing); raises InvalidInput when it could not. None: the channel's transport sends the fields.
    send: Callable[[Settings, Confirmation], dict] | None = None
    # ((rate, "kind:key"), ...) that a sign-up of this (checked) address also counts against,
    # besides the address itself: a webhook's domain and server, so the form cannot make us hammer
    # one server through many URLs; an SMS number's country; every sign-up of the channel together
    # (its cap in all). The kind names the limit on the form.
    rate_keys: Callable[[Settings, str], tuple[tuple[str, str], ...]] = _no_keys
    # The channel's own rate per client (None: only the rate across channels), counted with that
    # one before the address is checked: a check may resolve a host name, so every try counts.
    client_rate: Callable[[Settings], str | None] = _no_rate
    # The most subscribers the form may have confirmed on this channel (None: no cap): each
    # self-service webhook costs the fan-out a request to a server anyone chose.
    most: Callable[[Settings], int | None] = _no_most
    # The subscriber's credentials, derived from the sign-up's token (a webhook's signing secret):
    # set when it is confirmed, and shown once on the confirmation page.
    credentials: Callable[[str], dict[str, str]] | None = None


@dataclass(frozen=True)
class Channel:
    """One channel, as its module declares it. Only registered channels have renditions: a
    template folder without a channel module is not a channel."""

    name: str
    kind: Kind
    transport: Callable[[Settings], Transport]  # the real provider, used when `configured`
    configured: Callable[[Settings], bool] = _always  # else the `log` provider stands in
    address: str | None = None  # the Subscriber attribute holding a recipient's address
    normalise: Callable[[str], str] = str.strip  # checks an address; raises InvalidInput saying why
    new_subscriber: Callable[[], dict[str, str]] | None = None  # fields a new address gets (a secret)
    target_details: tuple[str, ...] = ()  # further Subscriber attributes the transport needs
    limits: LimitChecker | None = None  # checked on the rendered text before submit
    rate: Callable[[Settings], str | None] = _no_rate  # "100/second", fleet-wide per provider account
    batch_size: Callable[[Settings], int] = _one  # targets per provider call (also for the log provider)
    idempotent: bool = False  # a resend is harmless, so an unknown outcome is simply sent again
    threads_updates: bool = False  # later versions of an incident reply to the previous post
    # {target: {field: value}} the transport needs beyond the subscriber fields, looked up at send time
    # (an on-demand channel's targets are no subscribers: e.g. which approved variant a reply uses).
    lookup_details: Callable[[Settings, list[str]], dict[str, dict]] | None = None
    signup: SignUp | None = None  # the public subscribe form offers this channel (recipient channels)
    # Sends another channel's stored rendition and has none of its own (the calls back to IVR
    # callers play the `ivr` script): nothing extra is rendered, hashed or approved for it.
    renditions_of: str | None = None
    # On the bulk queue though not fanned out to subscribers: slow, paced sends (a call a second)
    # that must never hold up the live surfaces.
    bulk: bool = False
    # Whether a caller who asked the IVR for a call-back hears back on this channel, to their
    # number, when the incident is resolved (see followup.py); None: never.
    follows_up: Callable[[Settings], bool] | None = None
    # The words such a follow-up sends, from the channel's stored rendition (an SMS's follow-up text
    # instead of its update); None: the rendition as it is.
    follow_up_words: Callable[[dict[str, str]], dict[str, str]] | None = None

    def __post_init__(self) -> None:
        if (self.kind is Kind.RECIPIENT) != (self.address is not None):
            raise ValueError(f"channel {self.name}: a recipient channel names its subscriber address, "
                             "a live surface does not")

    @property
    def is_live(self) -> bool:
        return self.kind is Kind.LIVE

    @property
    def rendition(self) -> str:
        """The channel whose stored rendition this one sends: its own, unless `renditions_of`."""
        return self.renditions_of or self.name

    @property
    def on_bulk_queue(self) -> bool:
        return self.kind in (Kind.RECIPIENT, Kind.LIST) or self.bulk

    @property
    def delivered_at_publish(self) -> bool:
        """Publishing writes its deliveries (not an on-demand channel)."""
        return self.kind is not Kind.ON_DEMAND
