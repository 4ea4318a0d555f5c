from datetime import UTC, datetime, timedelta

import pytest

from broadcaster.domain.approval import (
    PERMISSIONS,
    Actor,
    ApprovalPolicy,
    Role,
    check_can_approve,
    highest_impact_of,
    is_fully_approved,
    permits,
    require_role,
    seal,
    seal_is_valid,
)
from broadcaster.domain.errors import InvalidInput, NotAllowed

ALICE = Actor(1, "alice", frozenset({Role.AUTHOR}))
BOB = Actor(2, "bob", frozenset({Role.APPROVER}))
CAROL = Actor(3, "carol", frozenset({Role.APPROVER, Role.AUTHOR}))
ADMIN = Actor(4, "root", frozenset({Role.ADMIN}))
H = "a" * 64


def test_approver_may_approve_someone_elses_statement():
    check_can_approve(BOB, contributors={ALICE.id}, approved_before=[], hash_seen=H, hash_now=H)


def test_self_approval_is_refused_even_with_the_approver_role():
    with pytest.raises(NotAllowed, match="carol wrote or edited this statement and cannot approve it"):
        check_can_approve(CAROL, contributors={CAROL.id}, approved_before=[], hash_seen=H, hash_now=H)


def test_an_editor_who_is_not_the_author_cannot_approve_either():
    with pytest.raises(NotAllowed, match="carol wrote or edited this statement and cannot approve it: another"):
        check_can_approve(CAROL, contributors={ALICE.id, CAROL.id}, approved_before=[], hash_seen=H, hash_now=H)


@pytest.mark.parametrize("actor", [ALICE, ADMIN])
def test_approver_role_is_required(actor):
    with pytest.raises(NotAllowed, match=f"{actor.name} cannot approve: needs role approver"):
        check_can_approve(actor, contributors={99}, approved_before=[], hash_seen=H, hash_now=H)


def test_the_same_approver_counts_once():
    with pytest.raises(NotAllowed, match="already approved"):
        check_can_approve(BOB, contributors={ALICE.id}, approved_before=[BOB.id], hash_seen=H, hash_now=H)


def test_approval_for_another_hash_is_refused():
    with pytest.raises(NotAllowed, match="approval is for content aaaaaaaaaaaa but the statement now hashes to bbbb"):
        check_can_approve(BOB, contributors={ALICE.id}, approved_before=[], hash_seen=H, hash_now="b" * 64)


def test_default_policy_needs_one_approval_and_two_for_critical():
    policy = ApprovalPolicy()
    assert [policy.required(i) for i in ("none", "minor", "major", "critical")] == [1, 1, 1, 2]
    assert not is_fully_approved(policy, "critical", 1)
    assert is_fully_approved(policy, "critical", 2)
    assert is_fully_approved(policy, "major", 1)


def test_policy_comes_from_configuration():
    policy = ApprovalPolicy(default=2, by_impact={"critical": 3, "none": 1})
    assert (policy.required("minor"), policy.required("critical"), policy.required("none")) == (2, 3, 1)


def test_policy_of_zero_approvers_is_refused():
    with pytest.raises(InvalidInput, match="critical needs at least 1 approver"):
        ApprovalPolicy(by_impact={"critical": 0})


def test_only_authors_and_admins_publish():
    require_role(ALICE, "publish")
    require_role(ADMIN, "publish")
    with pytest.raises(NotAllowed, match="bob cannot publish: needs role admin or author"):
        require_role(BOB, "publish")


def test_approvals_follow_the_incidents_highest_impact_not_the_versions():
    policy = ApprovalPolicy()
    assert policy.required_for_incident("critical", "minor") == 2
    assert policy.required_for_incident("minor", "critical") == 2
    assert policy.required_for_incident("major", "none") == 1


def test_highest_impact_orders_none_minor_major_critical():
    assert highest_impact_of(["minor", "critical", "none"]) == "critical"
    assert highest_impact_of(["none", "major", "minor"]) == "major"


def test_only_admins_manage_users():
    require_role(ADMIN, "manage users")
    for actor in (ALICE, BOB, CAROL):
        with pytest.raises(NotAllowed, match=f"{actor.name} cannot manage users: needs role admin"):
            require_role(actor, "manage users")


AT = datetime(2026, 11, 23, 15, 0, 0, 123456, tzinfo=UTC)


def test_a_seal_verifies_only_with_the_same_key_and_the_same_facts():
    sealed = seal("key", 7, H, BOB.id, AT)
    assert seal_is_valid("key", 7, H, BOB.id, AT, sealed)
    assert not seal_is_valid("other key", 7, H, BOB.id, AT, sealed)
    assert not seal_is_valid("key", 8, H, BOB.id, AT, sealed)
    assert not seal_is_valid("key", 7, "b" * 64, BOB.id, AT, sealed)
    assert not seal_is_valid("key", 7, H, CAROL.id, AT, sealed)
    assert not seal_is_valid("key", 7, H, BOB.id, AT + timedelta(microseconds=1), sealed)
    assert not seal_is_valid("key", 7, H, BOB.id, AT, None)


def test_no_seal_without_a_secret_key():
    with pytest.raises(NotAllowed, match="no secret key to seal approvals with: run `broadcaster init`"):
        seal("", 7, H, BOB.id, AT)
    assert not seal_is_valid("", 7, H, BOB.id, AT, seal("key", 7, H, BOB.id, AT))


def test_permits_answers_what_require_role_enforces_for_every_action_and_role():
    """The API checks `permits` on the event loop and calls `require_role` (audited) only to refuse:
    the two must agree everywhere."""
    for action in PERMISSIONS:
        for role in Role:
            actor = Actor(9, "someone", frozenset({role}))
            if permits(actor, action):
                require_role(actor, action)
            else:
                with pytest.raises(NotAllowed):
                    require_role(actor, action)
    assert not permits(Actor(9, "nobody", frozenset()), "read")
