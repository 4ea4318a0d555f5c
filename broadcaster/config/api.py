"""The REST API's own settings: how much a request may carry, how long an idempotent answer is kept,
how fast a token may call."""

from pydantic import Field
from pydantic_settings import BaseSettings

from ..domain import field_limits


class ApiSettings(BaseSettings):
    """Listed among `Settings`'s bases: each field is one `BROADCASTER_<NAME>` variable."""

    max_body_bytes: int = Field(field_limits.BODY_BYTES, ge=1024, le=100_000_000, description=(
        "The most bytes any request's body may carry (counted as it arrives, whatever Content-Length "
        "says); more is refused with 413, on every route."))
    max_json_depth: int = Field(field_limits.JSON_DEPTH, ge=2, le=1000, description=(
        "How deeply a JSON body may nest (objects and arrays); deeper is refused with 422."))
    idempotency_hours: float = Field(24.0, ge=24, description=(
        "How long an API answer is kept for a retry with the same `Idempotency-Key` (at least a day)."))
    api_rate: str = Field("600/minute", description=(
        "Requests per API token or session (per client address for requests whose credentials do not check "
        "out, together), as `limits` reads it; over it, 429 with `Retry-After`. Every answer carries "
        "`RateLimit` and `RateLimit-Policy` headers."))
