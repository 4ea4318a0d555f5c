import pytest

from broadcaster.domain.approval import (
    Actor,
    ApprovalPolicy,
    Role,
    check_can_approve,
    is_fully_approved,
    require_role,
)
from broadcaster.domain.errors import InvalidInput, NotAllowed

ALICE = Actor(1, "alice", frozenset({Role.AUTHOR}))
BOB = Actor(2, "bob", frozenset({Role.APPROVER}))
CAROL = Actor(3, "carol", frozenset({Role.APPROVER, Role.AUTHOR}))
ADMIN = Actor(4, "root", frozenset({Role.ADMIN}))
H = "a" * 64


def test_approver_may_approve_someone_elses_statement():
    check_can_approve(BOB, author_id=ALICE.id, approved_before=[], hash_seen=H, hash_now=H)


def test_self_approval_is_refused_even_with_the_approver_role():
    with pytest.raises(NotAllowed, match="carol wrote this statement and cannot approve it"):
        check_can_approve(CAROL, author_id=CAROL.id, approved_before=[], hash_seen=H, hash_now=H)


@pytest.mark.parametrize("actor", [ALICE, ADMIN])
def test_approver_role_is_required(actor):
    with pytest.raises(NotAllowed, match=f"{actor.name} cannot approve: needs role approver"):
        check_can_approve(actor, author_id=99, approved_before=[], hash_seen=H, hash_now=H)


def test_the_same_approver_counts_once():
    with pytest.raises(NotAllowed, match="already approved"):
        check_can_approve(BOB, author_id=ALICE.id, approved_before=[BOB.id], hash_seen=H, hash_now=H)


def test_approval_for_another_hash_is_refused():
    with pytest.raises(NotAllowed, match="approval is for content aaaaaaaaaaaa but the statement now hashes to bbbb"):
        check_can_approve(BOB, author_id=ALICE.id, approved_before=[], hash_seen=H, hash_now="b" * 64)


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
