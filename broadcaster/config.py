"""Every setting Broadcaster reads, in one place.

Values come from the environment (prefix ``BROADCASTER_``) or a ``.env`` file.
Nothing else in the code base reads ``os.environ``.
"""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    timezone_label: str = "UTC"

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
