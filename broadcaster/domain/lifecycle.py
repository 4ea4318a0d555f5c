"""How one statement version moves from draft to published.

    draft ──submit──▶ pending_approval ──approve──▶ approved ──publish──▶ published ──supersede──▶ superseded
                          │                           │
                          └──reject──▶ rejected       └── withdraw / edit ──▶ withdrawn

A version is immutable once submitted: editing it makes a new draft version and
voids the old one (withdrawn), so an approval can never cover words it did not see.
"""

from enum import StrEnum

from .errors import IllegalTransition


class State(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    PUBLISH = "publish"
    SUPERSEDE = "supersede"


TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.DRAFT, Action.SUBMIT): State.PENDING_APPROVAL,
    (State.DRAFT, Action.WITHDRAW): State.WITHDRAWN,
    (State.PENDING_APPROVAL, Action.APPROVE): State.APPROVED,
    (State.PENDING_APPROVAL, Action.REJECT): State.REJECTED,
    (State.PENDING_APPROVAL, Action.WITHDRAW): State.WITHDRAWN,
    (State.APPROVED, Action.WITHDRAW): State.WITHDRAWN,
    (State.APPROVED, Action.PUBLISH): State.PUBLISHED,
    (State.PUBLISHED, Action.SUPERSEDE): State.SUPERSEDED,
}

# Where a version stands, said once, with what to do instead; shown with a refusal.
WHY_NOT: dict[State, str] = {
    State.DRAFT: "it is still a draft; submit it for approval first",
    State.PENDING_APPROVAL: "it is waiting for approval",
    State.APPROVED: "it is already approved and waiting to be published",
    State.PUBLISHED: "it is live; draft a new version to change what customers see",
    State.SUPERSEDED: "it was replaced by a newer published version",
    State.REJECTED: "it was rejected; edit it to make a new version",
    State.WITHDRAWN: "it was withdrawn; draft a new version",
}

# What becomes of a version when its author edits it: a draft changes in place (None),
# anything submitted stays immutable and the edit becomes a new draft version.
AFTER_EDIT: dict[State, State | None] = {
    State.DRAFT: None,
    State.PENDING_APPROVAL: State.WITHDRAWN,
    State.APPROVED: State.WITHDRAWN,
    State.PUBLISHED: State.PUBLISHED,
    State.SUPERSEDED: State.SUPERSEDED,
    State.REJECTED: State.REJECTED,
    State.WITHDRAWN: State.WITHDRAWN,
}


def next_state(current: State, action: Action, label: str = "statement") -> State:
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise IllegalTransition(f"cannot {action.value} {label}: {WHY_NOT[current]}") from None


def edit_makes_new_version(current: State) -> bool:
    return AFTER_EDIT[current] is not None


def state_after_edit(current: State) -> State:
    """The old version's state once an edit has produced a new version from it."""
    after = AFTER_EDIT[current]
    return current if after is None else after


def is_live_or_done(state: State) -> bool:
    return state in (State.PUBLISHED, State.SUPERSEDED)
