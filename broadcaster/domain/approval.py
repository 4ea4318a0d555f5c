"""Who may approve a statement, how many must, and what exactly they approve.

An approval names the content hash the approver saw. If the statement now
hashes differently, the approval is for other words and is refused.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import InvalidInput, NotAllowed


class Role(StrEnum):
    AUTHOR = "author"
    APPROVER = "approver"
    ADMIN = "admin"


# Which roles may take each action. Approving is for approvers alone: admins run
# the system, they do not speak for the company.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "draft": frozenset({Role.AUTHOR, Role.ADMIN}),
    "edit": frozenset({Role.AUTHOR, Role.ADMIN}),
    "submit": frozenset({Role.AUTHOR, Role.ADMIN}),
    "withdraw": frozenset({Role.AUTHOR, Role.ADMIN}),
    "publish": frozenset({Role.AUTHOR, Role.ADMIN}),
    "open incident": frozenset({Role.AUTHOR, Role.ADMIN}),
    "manage components": frozenset({Role.AUTHOR, Role.ADMIN}),
    "approve": frozenset({Role.APPROVER}),
    "reject": frozenset({Role.APPROVER}),
}


@dataclass(frozen=True)
class Actor:
    id: int
    name: str
    roles: frozenset[Role]


def require_role(actor: Actor, action: str) -> None:
    allowed = PERMISSIONS[action]
    if not actor.roles & allowed:
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


def check_can_approve(
    approver: Actor,
    author_id: int,
    approved_before: Collection[int],
    hash_seen: str,
    hash_now: str,
) -> None:
    """Raise NotAllowed unless this approver may approve this content now."""
    require_role(approver, "approve")
    if approver.id == author_id:
        raise NotAllowed(f"{approver.name} wrote this statement and cannot approve it")
    if approver.id in approved_before:
        raise NotAllowed(f"{approver.name} has already approved this version; another approver must")
    if hash_seen != hash_now:
        raise NotAllowed(
            f"the approval is for content {hash_seen[:12]} but the statement now hashes to "
            f"{hash_now[:12]}: preview it again and approve what you see"
        )


def is_fully_approved(policy: ApprovalPolicy, impact: str, approvals: int) -> bool:
    return approvals >= policy.required(impact)
