"""Who may approve a statement, how many must, and what exactly they approve.

An approval names the content hash the approver saw. If the statement now
hashes differently, the approval is for other words and is refused.
"""

import hashlib
import hmac
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from .errors import InvalidInput, NotAllowed
from .hashing import canonical_json
from .incident import Impact


class Role(StrEnum):
    AUTHOR = "author"
    APPROVER = "approver"
    ADMIN = "admin"
    SOCIAL = "social"  # answers customers on social media, only with approved words
    AGENT = "agent"  # a contact-centre agent: reads the live agent notes, changes nothing


# Which roles may take each action. Approving is for approvers alone: admins run
# the system, they do not speak for the company.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "draft": frozenset({Role.AUTHOR, Role.ADMIN}),
    "edit": frozenset({Role.AUTHOR, Role.ADMIN}),
    "submit": frozenset({Role.AUTHOR, Role.ADMIN}),
    "withdraw": frozenset({Role.AUTHOR, Role.ADMIN}),
    "publish": frozenset({Role.AUTHOR, Role.ADMIN}),
    # Running beat's sweep by hand (due retries, expired leases, what --no-wait left): who publishes,
    # and admins, who run the system.
    "sweep": frozenset({Role.AUTHOR, Role.ADMIN}),
    "open incident": frozenset({Role.AUTHOR, Role.ADMIN}),
    "manage components": frozenset({Role.AUTHOR, Role.ADMIN}),
    "approve": frozenset({Role.APPROVER}),
    "reject": frozenset({Role.APPROVER}),
    # The web app and API: reading, and running the system.
    "read": frozenset({Role.AUTHOR, Role.APPROVER, Role.ADMIN}),
    "read audit": frozenset({Role.APPROVER, Role.ADMIN}),
    "manage subscribers": frozenset({Role.ADMIN}),
    # Granting roles is granting the power to approve: only an admin does it (once one exists).
    "manage users": frozenset({Role.ADMIN}),
    "manage tokens": frozenset({Role.ADMIN}),
    # Holding statements: kept ready in calm times, switched on by an author or approver.
    "keep holding": frozenset({Role.AUTHOR, Role.ADMIN}),
    "activate holding": frozenset({Role.AUTHOR, Role.APPROVER, Role.ADMIN}),
    # Statement templates and the alert rules that pick them: what monitoring drafts, never publishes.
    "manage templates": frozenset({Role.AUTHOR, Role.ADMIN}),
    "manage alert rules": frozenset({Role.AUTHOR, Role.ADMIN}),
    # A source's token or secret lets a monitoring system open drafts: running the system.
    "manage alert sources": frozenset({Role.ADMIN}),
    # An event endpoint receives what happens (incidents, statements, failures) and holds a signing secret.
    "manage event endpoints": frozenset({Role.ADMIN}),
    # The social reply queue. Reading it (customers' posts, the queue, the live variants, X's budget) is for
    # the team that works it, and for admins, who run the system and watch it; authors and approvers do
    # not work the queue (approvers see the free text waiting for them in their own approval inbox).
    "read social": frozenset({Role.SOCIAL, Role.ADMIN}),
    # Pulling mentions and searching fill the inbox and answer no one: running the system (beat pulls on
    # its own while an incident is open), so admins may too.
    "social pull": frozenset({Role.SOCIAL, Role.ADMIN}),
    # Queueing a reply, proposing free text and skipping a post decide what the company says to one
    # customer: the social team's call alone. Admins run the system; they do not speak for the company.
    "social reply": frozenset({Role.SOCIAL}),
    # Free text for one reply is approved like a statement: by an approver, never by its proposer.
    "approve reply": frozenset({Role.APPROVER}),
    # The agent desk: the live agent notes of every open incident and their versions. Read-only: nothing
    # an agent does changes a statement. Whoever writes, approves or runs the words may read it too.
    "read agent desk": frozenset({Role.AGENT, Role.AUTHOR, Role.APPROVER, Role.ADMIN}),
    # Who hears the internal words (leadership, the regulator, first responders): those who run the system
    # and those who write the words.
    "manage stakeholders": frozenset({Role.AUTHOR, Role.ADMIN}),
}


@dataclass(frozen=True)
class Actor:
    id: int
    name: str
    roles: frozenset[Role]


def permits(actor: Actor, action: str) -> bool:
    """Whether PERMISSIONS lets `actor` take `action` (one of its roles is among the action's)."""
    return bool(actor.roles & PERMISSIONS[action])


def require_role(actor: Actor, action: str) -> None:
    if not permits(actor, action):
        allowed = PERMISSIONS[action]
        needed = " or ".join(sorted(role.value for role in allowed))
        has = ", ".join(sorted(role.value for role in actor.roles)) or "none"
        raise NotAllowed(f"{actor.name} cannot {action}: needs role {needed} (has {has})")


@dataclass(frozen=True)
class ApprovalPolicy:
    default: int = 1
    by_impact: Mapping[str, int] = field(default_factory=lambda: {"critical": 2})

    def __post_init__(self) -> None:
        for impact, count in {"default": self.default, **self.by_impact}.items():
            if count < 1:
                raise InvalidInput(f"approval policy: {impact} needs at least 1 approver, got {count}")

    def required(self, impact: str) -> int:
        return self.by_impact.get(impact, self.default)

    def required_for_incident(self, highest_impact: str, impact: str) -> int:
        """Approvals a version needs: by the incident's highest impact ever, or the version's own if
        higher. Drafting `--impact minor` on a critical incident must not halve the approvals."""
        return self.required(highest_impact_of((highest_impact, impact)))


IMPACT_ORDER = [impact.value for impact in Impact]  # none < minor < major < critical


def highest_impact_of(impacts: Iterable[str]) -> str:
    return max(impacts, key=lambda impact: IMPACT_ORDER.index(impact) if impact in IMPACT_ORDER else -1)


def check_can_approve(
    approver: Actor,
    contributors: Collection[int],
    approved_before: Collection[int],
    hash_seen: str,
    hash_now: str,
) -> None:
    """Raise NotAllowed unless this approver may approve this content now. `contributors` are
    everyone who wrote or changed a field of this version or of the drafts it came from."""
    require_role(approver, "approve")
    if approver.id in contributors:
        raise NotAllowed(f"{approver.name} wrote or edited this statement and cannot approve it: "
                         "another approver must")
    if approver.id in approved_before:
        raise NotAllowed(f"{approver.name} has already approved this version; another approver must")
    if hash_seen != hash_now:
        raise NotAllowed(
            f"the approval is for content {hash_seen[:12]} but the statement now hashes to "
            f"{hash_now[:12]}: preview it again and approve what you see"
        )


def is_fully_approved(policy: ApprovalPolicy, impact: str, approvals: int) -> bool:
    return approvals >= policy.required(impact)


def seal(secret_key: str, statement_id: int, content_hash: str, approver_id: int, at: datetime) -> str:
    """HMAC-SHA256 over what one approval says, keyed by a secret that is not in the database:
    rows rewritten behind the app's back (hashes recomputed and all) cannot carry a valid seal."""
    if not secret_key:
        raise NotAllowed("no secret key to seal approvals with: run `broadcaster init` (it writes "
                         ".broadcaster-secret) or set BROADCASTER_SECRET_KEY")
    message = canonical_json(["approval", int(statement_id), content_hash, int(approver_id), _instant(at)])
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def seal_is_valid(secret_key: str, statement_id: int, content_hash: str, approver_id: int, at: datetime,
                  given: str | None) -> bool:
    if not secret_key or not given:
        return False
    return hmac.compare_digest(seal(secret_key, statement_id, content_hash, approver_id, at), given)


def _instant(at: datetime) -> str:
    # Microseconds are kept by SQLite and PostgreSQL alike; the zone is always UTC once stored.
    return at.astimezone(UTC).isoformat(timespec="microseconds")
