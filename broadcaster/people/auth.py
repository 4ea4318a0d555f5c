"""Who is calling the web app: passwords (argon2), dashboard sessions, API tokens, and the one
permission check every endpoint makes.

Passwords are hashed with argon2id (pwdlib). Session cookies and API tokens are long random
values: only their SHA-256 is stored, so a copy of the database logs no one in. A token carries
one role of its user, and is checked against the user's roles at every use: taking the role from
the user takes it from the token too. Every refusal is written to the audit trail.
"""

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..config import Settings
from ..domain.approval import Actor, Role, require_role
from ..domain.client_address import limit_key
from ..domain.errors import InvalidInput, NotAllowed, NotFound
from ..domain.hashing import sha256_hex
from ..domain.incident import parse_choice
from ..store.access_models import ApiToken, WebSession
from ..store.models import User, utcnow
from ..usecase import audit_unproven, installation_counters, log_action, unit_of_work

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # a passphrase fits; a megabyte posted to the login form is not hashed
MAX_NAME_LENGTH = 100  # users.name
TOKEN_PREFIX = "bct_"
# A token's `last_used_at` is written when it last changed by this much or more: to the minute is what
# anyone reads it for (is this token still in use?), and a read through the API stays a read instead of
# an UPDATE and a commit (an fsync) on every request.
TOKEN_USE_SHOWN_TO = timedelta(minutes=1)


class NotAuthenticated(NotAllowed):
    """No valid session or token: log in, or send `Authorization: Bearer <token>`."""

class TooManyAttempts(NotAllowed):
    """Login attempts for this account or address are over the limit: wait and try again."""


@lru_cache(maxsize=1)
def secret_hasher():
    """argon2id for what people type and we must never store as given: passwords and PINs."""
    from pwdlib import PasswordHash

    return PasswordHash.recommended()  # argon2id


# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = secret_hasher().hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def actor_of(user: User, roles: frozenset[Role] | None = None) -> Actor:
    own = frozenset(Role(r) for r in user.role_list)
    return Actor(user.id, user.name, own if roles is None else own & roles)


# --- passwords ---------------------------------------------------------------------------


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"password: at most {MAX_PASSWORD_LENGTH} characters, got {len(password)}")


def set_password(settings: Settings, name: str, password: str, actor: Actor | None = None) -> None:
    """Give `name` a password (themselves, or an admin)."""
    check_password(password)
    authorize_for(settings, actor, name, "manage users")
    with unit_of_work(settings) as s:
        user = _user_named(s, name)
        user.password_hash = secret_hasher().hash(password)
        # A new password logs out every browser that had the old one (it may be why it changed).
        ended = s.execute(update(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
                          .values(ended_at=utcnow())).rowcount
        # From the server's CLI nobody logs in: the row names the user whose password it is.
        log_action(s, actor or actor_of(user), "set password", f"user:{user.id}",
                   {"name": user.name, "sessions_ended": ended})


def login(settings: Settings, name: str, password: str, address: str) -> Actor:
    """The user if the password is right. Attempts are limited per account and per address,
    right or wrong, so guessing is slow; a refusal never says whether the name exists."""
    _count_login_attempt(settings, name, address)
    with unit_of_work(settings) as s:
        user = s.scalar(select(User).where(User.name == name))
        stored = user.password_hash if user else None
        valid = secret_hasher().verify(password, stored or _dummy_hash())
        if user is None or stored is None or not valid:
            log_action(s, actor_of(user) if user else None, "refused: login", f"user:{user.id if user else '?'}",
                       {"name": name[:100], "address": address, "reason": "wrong name or password"})
            refusal = NotAllowed("login: wrong name or password")
        else:
            log_action(s, actor_of(user), "login", f"user:{user.id}", {"address": address})
            return actor_of(user)
    raise refusal


def _count_login_attempt(settings: Settings, name: str, address: str) -> None:
    # The address first: a flood from one address stops there, before it counts against any account.
    # The name is the caller's own text, so its key is a hash of it: the same size whatever was posted.
    checks = ((settings.login_rate_per_address, f"address:{limit_key(address)}"),
              (settings.login_rate_per_account, f"account:{sha256_hex(name.lower())[:32]}"))
    for rate, key in checks:
        if over_limit(settings, rate, "login", key):
            # Anyone can post these in a loop: audited throttled per address, as other unproven refusals are.
            audit_unproven(settings, "refused: login", f"user:{name[:50]}",
                           {"address": address, "reason": f"over {rate} for {key.split(':')[0]}"}, address)
            raise TooManyAttempts(f"login: too many attempts for this {key.split(':')[0]} (limit {rate}); "
                                  "wait a minute and try again")


def over_limit(settings: Settings, rate: str, scope: str, key: str, count: bool = True) -> bool:
    """Count one attempt of `scope` (login, pin, ...) for `key`; True once `rate` is exceeded.
    Counted together by every process of the installation (see installation_counters). `count=False`
    only asks whether `key` is over already (a caller that counts failures alone)."""
    limiter, args = _moving_window(settings, rate, scope, key)
    return not (limiter.hit(*args) if count else limiter.test(*args))


def limit_window(settings: Settings, rate: str, scope: str, key: str) -> tuple[int, datetime]:
    """How many attempts of `scope` `key` has left under `rate`, and when the oldest one counted leaves
    the window (so someone refused for too many tries can be told when to try again). That time is
    rounded up to the minute: people are told a clock time, and at 08:23 a window freeing at 08:23:52
    would refuse them again."""
    limiter, args = _moving_window(settings, rate, scope, key)
    stats = limiter.get_window_stats(*args)
    return stats.remaining, datetime.fromtimestamp(math.ceil(stats.reset_time / 60) * 60, UTC)


def tightest_window(settings: Settings, limits: list[tuple[str, str, str]]) -> tuple[int, datetime]:
    """Across several limits on one attempt (per person and per number, say): the fewest attempts left,
    and when the limits leaving that few free a slot. Not the latest reset of all: `limits` puts an
    empty window's reset a whole period away, though it refuses nothing."""
    windows = [limit_window(settings, *one) for one in limits]
    left = min(remaining for remaining, _ in windows)
    return left, max(at for remaining, at in windows if remaining == left)


def _moving_window(settings: Settings, rate: str, scope: str, key: str) -> tuple:
    """The installation's moving-window limiter and the arguments naming `key`'s attempts of `scope`."""
    from limits import parse
    from limits.strategies import MovingWindowRateLimiter

    storage, namespace = installation_counters(settings)
    return MovingWindowRateLimiter(storage), (parse(rate), f"broadcaster-{scope}", namespace, key)


# --- dashboard sessions ------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    actor: Actor
    csrf_token: str
    id: int


def start_session(settings: Settings, actor: Actor) -> tuple[str, str]:
    """(cookie value, CSRF token) of a new dashboard session."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with unit_of_work(settings) as s:
        s.add(WebSession(user_id=actor.id, token_hash=sha256_hex(cookie), csrf_token=csrf,
                         expires_at=utcnow() + timedelta(hours=settings.session_hours)))
    return cookie, csrf


def session_for(settings: Settings, cookie: str | None) -> Session:
    if not cookie:
        raise NotAuthenticated("not logged in")
    with unit_of_work(settings) as s:
        row = _session_row(s, cookie)
        if row is None or row.ended_at is not None or row.expires_at <= utcnow():
            raise NotAuthenticated("your session has ended: log in again")
        return Session(actor_of(row.user), row.csrf_token, row.id)


def _session_row(s, cookie: str) -> WebSession | None:
    """The session this cookie names, with its user in the same query, as a token's: every dashboard
    page and form reads both, and logging out names the user in the audit."""
    return s.scalar(select(WebSession).options(joinedload(WebSession.user))
                    .where(WebSession.token_hash == sha256_hex(cookie)))


def check_csrf(settings: Settings, session: Session, token: str | None, refusal: str) -> None:
    """A write with the session cookie must carry the session's CSRF token; a refusal is audited."""
    if not hmac.compare_digest((token or "").encode(), session.csrf_token.encode()):
        with unit_of_work(settings) as s:
            log_action(s, session.actor, "refused: form", "csrf", {"reason": "missing or wrong CSRF token"})
        raise NotAllowed(refusal)


def end_session(settings: Settings, cookie: str | None) -> None:
    if not cookie:
        return
    with unit_of_work(settings) as s:
        row = _session_row(s, cookie)
        if row is not None and row.ended_at is None:
            row.ended_at = utcnow()
            log_action(s, actor_of(row.user), "logout", f"user:{row.user_id}", {})


# --- API tokens --------------------------------------------------------------------------


def create_token(settings: Settings, name: str, role: str, actor: Actor | None = None) -> dict:
    """A token for `name` acting in one of their roles (made by themselves, or an admin); the token
    itself is returned only here."""
    chosen = parse_choice(Role, role, "role")
    authorize_for(settings, actor, name, "manage tokens")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(settings) as s:
        user = _user_named(s, name)
        if chosen.value not in user.role_list:
            raise InvalidInput(f"role: {user.name} does not have the role {chosen.value} "
                               f"(has {', '.join(user.role_list)})")
        token = ApiToken(user_id=user.id, role=chosen.value, token_hash=sha256_hex(secret))
        s.add(token)
        s.flush()
        log_action(s, actor, "create token", f"token:{token.id}", {"user": user.name, "role": chosen.value})
        return {"id": token.id, "user": user.name, "role": chosen.value, "token": secret}


def revoke_token(settings: Settings, token_id: int, actor: Actor | None = None) -> dict:
    """Revoke a token at once (its own user, or an admin)."""
    with unit_of_work(settings) as s:
        token = s.get(ApiToken, token_id)
        owner = token.user.name if token is not None else ""
    authorize_for(settings, actor, owner, "manage tokens")  # before saying whether it exists
    with unit_of_work(settings) as s:
        token = s.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"token {token_id} does not exist")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        log_action(s, actor, "revoke token", f"token:{token.id}", {"user": token.user.name})
        return token_view(token)


def list_tokens(settings: Settings) -> list[dict]:
    with unit_of_work(settings) as s:
        return [token_view(t) for t in s.scalars(select(ApiToken).order_by(ApiToken.id))]


def token_view(token: ApiToken) -> dict:
    return {"id": token.id, "user": token.user.name, "role": token.role, "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked": token.revoked_at is not None}


def token_actor(settings: Settings, secret: str | None) -> Actor:
    if not secret:
        raise NotAuthenticated("no credentials: send `Authorization: Bearer <token>` (see `broadcaster token create`)")
    with unit_of_work(settings) as s:
        # Its user in the same query: every API request reads both.
        token = s.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                         .where(ApiToken.token_hash == sha256_hex(secret)))
        if token is None or token.revoked_at is not None:
            raise NotAuthenticated("the API token is unknown or revoked")
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_SHOWN_TO:
            token.last_used_at = now
        return actor_of(token.user, frozenset({Role(token.role)}))


# --- the permission check ----------------------------------------------------------------


def authorize_for(settings: Settings, actor: Actor | None, name: str, action: str) -> None:
    """Your own password, PIN and tokens are yours to set; anyone else's need `action` (an admin's).
    No actor: the server setting up its first admin (`broadcaster user add --password`)."""
    if actor is not None and actor.name != name:
        authorize(settings, actor, action, f"user:{name}"[:200])


def authorize(settings: Settings, actor: Actor, action: str, subject: str = "") -> None:
    """PERMISSIONS decides; a refusal is audited before it is raised."""
    try:
        require_role(actor, action)
    except NotAllowed as exc:
        with unit_of_work(settings) as s:
            log_action(s, actor, f"refused: {action}", subject, {"reason": str(exc)})
        raise


def _user_named(s, name: str) -> User:
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"user {name!r} does not exist: add them with `broadcaster user add {name} --role ...`")
    return user
