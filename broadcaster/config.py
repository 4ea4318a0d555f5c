"""Every setting Broadcaster reads, in one place.

Values come from the environment (prefix ``BROADCASTER_``) or a ``.env`` file.
Nothing else in the code base reads ``os.environ``.
"""

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.errors import InvalidInput

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROADCASTER_", env_file=".env", extra="ignore")

    # Storage: a SQLite file in the working directory unless told otherwise.
    database_url: str = "sqlite:///broadcaster.db"

    # Who we are, as customers read it in every channel.
    company_name: str = "Example Co"
    status_page_url: str = "https://status.example.com"
    support_url: str = "https://help.example.com"
    ivr_support_hint: str = "our website or our help centre"
    # The IANA zone every channel shows times in, with that instant's abbreviation (EST/EDT).
    timezone: str = "UTC"

    # Approval policy: how many distinct approvers each impact needs (others: default).
    approvals_default: int = 1
    approvals_by_impact: dict[str, int] = Field(default_factory=lambda: {"critical": 2})

    # Channel limits, checked on the rendered text before a statement can be submitted.
    sms_max_segments: int = 3
    sms_max_chars: int = 320
    x_max_weighted_length: int = 280
    ivr_max_seconds: float = 45.0
    ivr_words_per_minute: int = 150
    email_subject_max_chars: int = 78

    templates_dir: Path = PROJECT_ROOT / "templates"

    # Every channel on the `log` provider whatever credentials are set (the demo; a staging copy).
    simulate: bool = False

    # Delivery. "memory://" is the embedded default: an in-process worker, no Redis needed.
    broker_url: str = "memory://"
    public_url: str | None = None  # where providers reach our callbacks, e.g. https://status-admin.example.com
    send_chunk_size: int = 1000  # delivery ids per Celery task: one full SendGrid batch
    # Subscribers per fan-out slice: one transaction writes their deliveries, then they are enqueued.
    fan_out_slice: int = Field(default=5000, ge=1)
    # A fan-out task writes slices for this long, then hands the rest to a fresh task.
    fan_out_task_seconds: float = 60.0
    send_threads: int = 8  # concurrent provider calls inside one task (SMS is one call a message)
    # A chunk starts no sends after this long and puts the rest back on the queue: under a slow
    # rate limit (1 SMS a second) a full chunk would otherwise outlast the task's time limit.
    chunk_seconds: float = 300.0
    quick_retries: int = 3  # tenacity attempts inside one claim, for blips
    quick_retry_max_wait_seconds: float = 10.0
    max_attempts: int = 8  # claims before a delivery is failed for good
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    # A claim not renewed for this long means the worker died; a live worker renews it every third.
    lease_seconds: float = 30.0
    provider_timeout_seconds: float = 10.0  # connect and read timeout of every provider call
    # Reconciliation of unknown outcomes: threads asking the provider, rows per slice, and how
    # long one run may take (it runs on its own `reconcile` queue, one run at a time fleet-wide).
    reconcile_threads: int = 4
    reconcile_slice: int = 200
    reconcile_seconds: float = 60.0
    channel_pause_seconds: float = 60.0  # a paused channel (refused credentials) is tried again this often
    sweep_interval_seconds: float = 15.0
    # Sends are paced this far under each provider rate: the provider counts arrivals, and a
    # busy worker host delays some requests by tens of milliseconds, bunching them. Raise it if
    # a provider still answers 429; the cost is this share of throughput.
    rate_headroom: float = Field(default=0.02, ge=0.0, lt=0.5)

    # Seals approvals and signs unsubscribe links; never stored in the database. Unset, it is read
    # from `secret_file`, which `broadcaster init` creates (random, readable only by its owner).
    secret_key: str = ""
    secret_file: Path = Path(".broadcaster-secret")
    _key_from_file: bool = PrivateAttr(default=False)
    default_phone_region: str | None = None  # e.g. "US": lets imports accept national numbers
    worker_metrics_port: int | None = None  # Prometheus endpoint of each worker process

    # Twilio (SMS). Without an account SID and token, SMS uses the log provider.
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str | None = None  # regional edge, proxy or mock; unset: the SDK default
    twilio_rate: str = "100/second"  # messages, per account, across all workers
    # Calls back to IVR callers, per account: Twilio's default is one call a second (CPS).
    twilio_call_rate: str = "1/second"

    # SendGrid (email).
    sendgrid_api_key: str | None = None
    sendgrid_host: str | None = None
    email_from: str = "status@example.com"
    email_batch_size: int = 1000  # personalizations per request (SendGrid's maximum)
    sendgrid_rate: str = "10/second"  # requests, per API key
    sendgrid_webhook_public_key: str | None = None  # verifies the signed event webhook

    # X (social), OAuth 1.0a user context.
    x_consumer_key: str | None = None
    x_consumer_secret: str | None = None
    x_access_token: str | None = None
    x_access_token_secret: str | None = None
    x_api_base: str | None = None
    x_rate: str = "100/15minutes"

    # The social reply queue (broadcaster.social): answering customers' posts on X.
    # Share of each X posting window (and of the 24-hour allowance) kept for official statement
    # posts; replies use the rest. X's own headers say the window; until they do, x_rate is assumed.
    x_statement_reserve: float = Field(default=0.2, ge=0.0, lt=1.0)
    x_user_id: str | None = None  # the account whose mentions are pulled; unset: asked once (GET /2/users/me)
    social_page_size: int = Field(default=100, ge=5, le=100)  # posts per page of mentions or search
    social_max_pages: int = Field(default=50, ge=1)  # pages one pull reads at most (the rest: next pull)
    social_pull_interval_seconds: float = 60.0  # beat pulls mentions this often while an incident is open

    # What customers see and hear (banner, status page, Statuspage JSON, feeds, IVR). The wording
    # itself lives in templates/_web/; these only say where and how.
    static_dir: Path | None = None  # also write the public surfaces here as static files (a CDN's origin)
    public_cache_seconds: int = Field(default=5, ge=0)  # in-process snapshot age and HTTP max-age
    ivr_voice: str = "Polly.Joanna"  # TwiML <Say voice>
    ivr_language: str = "en-US"  # TwiML <Say language> and <Gather language>
    ivr_greeting: str | None = None  # said when nothing is live; unset: templates/_web/ivr/greeting.txt
    ivr_forward_number: str | None = None  # E.164; when nothing is live, callers are put through here instead
    # Public sign-ups (double opt-in): at most this many per address and per client (the address
    # uvicorn reports: behind a proxy, set FORWARDED_ALLOW_IPS), and how long a link lives.
    signup_rate: str = "3/hour"
    signup_rate_per_client: str = "20/hour"  # every channel together
    signup_rate_storage: str = "memory://"  # e.g. redis://...: shared by every public process
    signup_link_hours: int = Field(default=24, ge=1)
    # Sign-ups of one channel being checked and sent at once in one public process; more wait (in
    # the event loop, holding no thread) this long for a turn, then are told to try again.
    signup_concurrency: int = Field(default=4, ge=1)
    signup_queue_seconds: float = Field(default=10.0, ge=0)
    # Each SMS code costs money, and premium-rate numbers pay whoever owns them: codes per client,
    # per country calling code, and for all numbers together.
    sms_signup_rate_per_client: str = "5/hour"
    sms_signup_rate_per_country: str = "50/hour"
    sms_signup_rate: str = "300/hour"
    # A webhook sign-up POSTs one signed verification event to the URL. However many URLs are
    # given: at most this many per domain (its last two labels, three for names like
    # example.co.uk), per address it resolves to, per client, and in all; at most this many
    # confirmed webhook subscribers from the form; only these ports; a DNS lookup and then the
    # request may take this long each (wall clock). Only public addresses are accepted unless
    # allowed (an intranet status page, or a test receiver on this machine): then any port too.
    webhook_signup_rate_per_host: str = "30/hour"
    webhook_signup_rate_per_server: str = "30/hour"
    webhook_signup_rate_per_client: str = "5/hour"
    webhook_signup_rate: str = "100/hour"
    webhook_signup_max_subscribers: int = Field(default=1000, ge=0)
    webhook_signup_ports: list[int] = Field(default_factory=lambda: [443, 8443])
    webhook_signup_seconds: float = Field(default=5.0, gt=0)
    webhook_signup_allow_private: bool = False
    # One POST of a statement to a webhook subscriber, wall clock: DNS, connect, TLS, the status line.
    webhook_send_seconds: float = Field(default=10.0, gt=0)
    # Refusals of callers who proved nothing (a link, a sign-up, an unsigned callback) written to
    # the audit trail in full per client and action each hour; past that one summary row at 10,
    # 100, 1,000, ... refusals.
    audit_refusals_per_client: int = Field(default=5, ge=1)
    # When each recipient channel is notified: "all", or some of open, update, resolved. The
    # default, like the best status pages: SMS when an incident opens and when it resolves.
    sms_notify_on: str = "open,resolved"
    email_notify_on: str = "all"
    webhook_notify_on: str = "all"
    # On resolve, call back (Twilio Calls API) every caller who pressed 1, besides texting them.
    ivr_callback_calls: bool = False

    # The web app: dashboard sessions, login rate limits, approval from a phone.
    session_hours: float = Field(default=12.0, gt=0)  # a dashboard login lasts this long
    login_rate_per_account: str = "5/minute"  # failed or not: password guessing is slowed per name
    login_rate_per_address: str = "20/minute"  # and per client address
    approval_link_hours: float = Field(default=2.0, gt=0)  # emailed links and SMS codes expire after this
    # Holding statements from a phone: the standing emailed link lives this long (unless used,
    # revoked or its words change); PINs (SMS or link) and link requests by SMS are rate-limited.
    holding_link_days: float = Field(default=30.0, gt=0)
    pin_rate_per_user: str = "5/hour"
    holding_link_request_rate: str = "3/hour"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # InvalidInput, not ValueError: pydantic lets it through, so the CLI prints one line.
            raise InvalidInput(f"BROADCASTER_TIMEZONE: {value!r} is not an IANA time zone; use a name such as "
                               "'America/New_York', 'Europe/London' or 'UTC'") from None
        return value

    @model_validator(mode="after")
    def _secret_from_file(self) -> "Settings":
        # BROADCASTER_SECRET_KEY wins; the file is the laptop and single-host default.
        if not self.secret_key:
            self.secret_key = read_secret_file(self.secret_file)
            self._key_from_file = bool(self.secret_key)
        return self

    @property
    def secret_source(self) -> str:
        """Where the secret key came from, for `init` to say: the file, the setting, or nowhere."""
        if not self.secret_key:
            return ""
        return str(self.secret_file) if self._key_from_file else "BROADCASTER_SECRET_KEY"

    @field_validator("sms_notify_on", "email_notify_on", "webhook_notify_on")
    @classmethod
    def _known_events(cls, value: str, info) -> str:
        events = {e.strip().lower() for e in value.split(",") if e.strip()}
        if not events or not events <= {"all", "open", "update", "resolved"}:
            raise InvalidInput(f"BROADCASTER_{info.field_name.upper()}: {value!r}: give 'all' or some of "
                               "open, update, resolved, comma-separated (e.g. open,resolved)")
        return ",".join(sorted(events))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def embedded(self) -> bool:
        return self.broker_url.startswith("memory://")


DEFAULT_SECRETS = ("", "change-me")
SECRET_ADVICE = ("run `broadcaster init` (it writes a random key to .broadcaster-secret, readable only by you) "
                 "or set BROADCASTER_SECRET_KEY to a long random value")


def read_secret_file(path: Path) -> str:
    """The key in `path` ("" if there is no such file). A file others can read is refused: the
    key is worth as much as every approval."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise InvalidInput(f"{path}: the secret key file can be read by others (mode {mode & 0o777:o}); "
                               f"make it yours alone with `chmod 600 {path}`")
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the secret key ({exc}); {SECRET_ADVICE}") from None


def require_real_secret(settings: "Settings", what: str) -> None:
    """A long-running process refuses the default or an empty key: anyone who knows it could
    forge unsubscribe links and approval seals."""
    if settings.secret_key in DEFAULT_SECRETS:
        which = "empty" if not settings.secret_key else f"the default {settings.secret_key!r}"
        raise InvalidInput(f"{what}: the secret key is {which}; {SECRET_ADVICE}")


def create_secret_file(path: Path) -> bool:
    """A new random key in `path`, mode 0600 from the first byte. False if it already exists."""
    import os
    import secrets

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return True


@lru_cache
def get_settings() -> Settings:
    return Settings()
