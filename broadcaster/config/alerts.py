"""The settings of alerts in (broadcaster.alerts): how much a monitoring system may post at once, and
how long the notices about its drafts stay worth sending."""

from pydantic import Field
from pydantic_settings import BaseSettings


class AlertSettings(BaseSettings):
    alert_max_body_kb: int = Field(1024, ge=1, le=65536, description=(
        "The largest alert request accepted, in KiB; a bigger one is refused (413) and changes nothing. "
        "Alertmanager's `max_alerts` keeps its requests under it."))
    alert_notice_hours: int = Field(12, ge=1, le=168, description=(
        "How long a notice about a draft monitoring opened (or a resolved draft it proposed) is worth "
        "sending: one not sent by then is dropped."))
    alert_holding_check_seconds: float = Field(60, gt=0, le=3600, description=(
        "How often beat (and embedded `serve`) looks for alert incidents whose rule switches on a holding "
        "statement when nobody has answered in time."))
