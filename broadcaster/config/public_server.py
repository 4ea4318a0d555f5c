"""The public server's settings (`broadcaster serve --public`): how it hears of a switch, how its
documents are cached by browsers and CDNs, and where it keeps what it could not store."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings


class PublicServerSettings(BaseSettings):
    public_notify_url: str | None = Field(None, description=(
        "Redis on which a switch of a live surface is announced to every public server (pub/sub), e.g. "
        "`redis://127.0.0.1:6379/0`; unset: the Redis the processes share (the broker's when it is Redis, "
        "Sentinel too; else BROADCASTER_REDIS_URL), else none (polling only)."))
    public_poll_seconds: float = Field(1.0, gt=0, le=300, description=(
        "How often a public server asks the database whether a surface switched while the notifier is "
        "unreachable (or unset), and retries the database while that is down."))
    public_stale_while_revalidate_seconds: int = Field(30, ge=0, description=(
        "`Cache-Control: stale-while-revalidate` of the public documents: how long a CDN or browser may serve "
        "a copy past its `max-age` while it fetches the next."))
    public_stale_if_error_seconds: int = Field(86400, ge=0, description=(
        "`Cache-Control: stale-if-error` of the public documents: how long a CDN may keep serving the last "
        "words while the public server fails."))
    public_spool_path: Path = Field(Path("broadcaster-public-spool.sqlite3"), description=(
        "A SQLite file local to the public server: the last snapshot it served (so it answers after a restart "
        "while the database is down) and what callers and texters asked while the database was down "
        "(call-backs, STOP and START), replayed when it is back."))
