"""Every setting Broadcaster reads, in one place.

Values come from the environment (prefix ``BROADCASTER_``) or a ``.env`` file.
Nothing else in the code base reads ``os.environ``.
"""

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
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
    send_threads: int = 8  # concurrent provider calls inside one task (SMS is one call a message)
    # A chunk starts no sends after this long and puts the rest back on the queue: under a slow
    # rate limit (1 SMS a second) a full chunk would otherwise outlast the task's time limit.
    chunk_seconds: float = 300.0
    quick_retries: int = 3  # tenacity attempts inside one claim, for blips
    quick_retry_max_wait_seconds: float = 10.0
    max_attempts: int = 8  # claims before a delivery is failed for good
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    lease_seconds: float = 300.0  # a claim older than this means the worker died mid-call
    sweep_interval_seconds: float = 15.0
    # Sends are paced this far under each provider rate: the provider counts arrivals, and a
    # busy worker host delays some requests by tens of milliseconds, bunching them. Raise it if
    # a provider still answers 429; the cost is this share of throughput.
    rate_headroom: float = Field(default=0.02, ge=0.0, lt=0.5)

    secret_key: str = "change-me"  # signs unsubscribe links; set a long random value in production
    default_phone_region: str | None = None  # e.g. "US": lets imports accept national numbers
    worker_metrics_port: int | None = None  # Prometheus endpoint of each worker process

    # Twilio (SMS). Without an account SID and token, SMS uses the log provider.
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str | None = None  # regional edge, proxy or mock; unset: the SDK default
    twilio_rate: str = "100/second"  # messages, per account, across all workers

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

    # What customers see and hear (banner, status page, Statuspage JSON, feeds, IVR). The wording
    # itself lives in templates/_web/; these only say where and how.
    static_dir: Path | None = None  # also write the public surfaces here as static files (a CDN's origin)
    public_cache_seconds: int = Field(default=5, ge=0)  # in-process snapshot age and HTTP max-age
    ivr_voice: str = "Polly.Joanna"  # TwiML <Say voice>
    ivr_language: str = "en-US"  # TwiML <Say language> and <Gather language>
    ivr_greeting: str | None = None  # said when nothing is live; unset: templates/_web/ivr/greeting.txt
    ivr_forward_number: str | None = None  # E.164; when nothing is live, callers are put through here instead
    # Public sign-ups (double opt-in): at most this many per address, and how long a link lives.
    signup_rate: str = "3/hour"
    signup_rate_storage: str = "memory://"  # e.g. redis://...: shared by every public process
    signup_link_hours: int = Field(default=24, ge=1)
    # When each recipient channel is notified: "all", or some of open, update, resolved. The
    # default, like the best status pages: SMS when an incident opens and when it resolves.
    sms_notify_on: str = "open,resolved"
    email_notify_on: str = "all"
    webhook_notify_on: str = "all"
    # On resolve, call back (Twilio Calls API) every caller who pressed 1, besides texting them.
    ivr_callback_calls: bool = False

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
