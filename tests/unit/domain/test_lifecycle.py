import itertools

import pytest

from broadcaster.domain.errors import IllegalTransition
from broadcaster.domain.lifecycle import (
    TRANSITIONS,
    Action,
    State,
    edit_makes_new_version,
    next_state,
    state_after_edit,
)

LEGAL = sorted(TRANSITIONS.items())
ILLEGAL = [pair for pair in itertools.product(State, Action) if pair not in TRANSITIONS]


@pytest.mark.parametrize(("start", "action", "end"), [(s, a, e) for (s, a), e in LEGAL])
def test_legal_transition_reaches_its_state(start, action, end):
    assert next_state(start, action) is end


def test_the_happy_path_reads_like_the_lifecycle():
    state = State.DRAFT
    for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH, Action.SUPERSEDE):
        state = next_state(state, action)
    assert state is State.SUPERSEDED


def test_approving_a_draft_says_to_submit_first():
    with pytest.raises(IllegalTransition, match="it is still a draft; submit it for approval first"):
        next_state(State.DRAFT, Action.APPROVE)


def test_publishing_a_published_statement_points_to_a_new_version():
    with pytest.raises(IllegalTransition, match="draft a new version"):
        next_state(State.PUBLISHED, Action.PUBLISH)


def test_every_state_is_covered_by_the_rules():
    assert {s for s, _ in TRANSITIONS} | {e for e in TRANSITIONS.values()} == set(State)


@pytest.mark.parametrize("state", [State.PENDING_APPROVAL, State.APPROVED])
def test_edit_after_submission_voids_the_version(state):
    assert edit_makes_new_version(state)
    assert state_after_edit(state) is State.WITHDRAWN


def test_edit_of_a_draft_changes_it_in_place():
    assert not edit_makes_new_version(State.DRAFT)
    assert state_after_edit(State.DRAFT) is State.DRAFT


def test_edit_of_a_published_version_leaves_it_live_until_the_new_one_is_published():
    assert edit_makes_new_version(State.PUBLISHED)
    assert state_after_edit(State.PUBLISHED) is State.PUBLISHED


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_a_refusal_says_where_the_version_stands_once(state, action):
    with pytest.raises(IllegalTransition) as refused:
        next_state(state, action, "statement 3")
    message = str(refused.value)
    assert message.startswith(f"cannot {action.value} statement 3: it ")
    assert " and it " not in message and message.count("it is") + message.count("it was") == 1


def test_approving_a_withdrawn_statement_reads_plainly():
    with pytest.raises(IllegalTransition) as refused:
        next_state(State.WITHDRAWN, Action.APPROVE, "statement 3")
    assert str(refused.value) == "cannot approve statement 3: it was withdrawn; draft a new version"
