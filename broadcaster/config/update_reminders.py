"""Update reminders: when a live statement's promised next update is near and nobody is writing it,
its authors are reminded (`incidents/reminders.py`)."""

from pydantic import Field
from pydantic_settings import BaseSettings


class ReminderSettings(BaseSettings):
    update_reminder_minutes: float = Field(10.0, gt=0, le=1440, description=(
        "How many minutes before a live statement's next update is due its authors are reminded, when no "
        "newer version is being written (a draft, or one waiting for approval or to be published). Each "
        "author is reminded once per version, by email (else SMS), through the delivery engine."))
    update_reminder_interval_seconds: float = Field(60.0, gt=0, le=3600, description=(
        "How often the reminder job looks for updates coming due (beat, or embedded `serve`)."))
