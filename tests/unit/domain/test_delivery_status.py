"""The delivery vocabulary: one enum, one table of moves, and no status spelled out anywhere else."""

import ast
from pathlib import Path

import pytest

from broadcaster.domain.delivery_status import (
    MOVES,
    REACHED,
    TERMINAL,
    UNSENT,
    DeliveryStatus,
    IllegalMove,
    Move,
    allowed,
    check,
    legal_history,
    sources,
)

S = DeliveryStatus
ROOT = Path(__file__).resolve().parents[3]


def test_every_status_is_reachable_from_a_new_row():
    reached, frontier = {S.PENDING}, [S.PENDING]
    while frontier:
        status = frontier.pop()
        for move in Move:
            for new in MOVES[move].get(status, ()):
                if new not in reached:
                    reached.add(new)
                    frontier.append(new)
    assert reached == set(S)


def test_only_a_claim_starts_a_send_and_only_the_claimant_records_one():
    into_sending = {move for move in Move for old, news in MOVES[move].items() if S.SENDING in news}
    assert into_sending == {Move.CLAIM}
    assert sources(Move.CLAIM) == UNSENT
    assert sources(Move.OUTCOME) == {S.SENDING}


def test_a_final_status_is_left_only_by_an_operators_resend_or_a_reconciled_cancel():
    for status in TERMINAL:
        leaving = {move for move in Move if MOVES[move].get(status, frozenset()) - {status}}
        assert leaving <= {Move.REQUEUE, Move.RECONCILE}, status
    assert not any(S.DELIVERED in MOVES[move] for move in Move)  # delivered is the end


def test_nothing_reached_is_ever_sent_again():
    for status in REACHED:
        assert not allowed(Move.REQUEUE, status, S.PENDING)
        assert not allowed(Move.CLAIM, status, S.SENDING)


def test_an_unknown_send_is_never_resent_before_it_is_reconciled():
    assert not allowed(Move.CLAIM, S.UNKNOWN, S.SENDING)
    assert MOVES[Move.RECONCILE][S.UNKNOWN] == {S.SENT, S.RETRY, S.CANCELLED}


def test_a_receipt_never_revives_a_final_delivery():
    for status in TERMINAL:
        assert status not in MOVES[Move.RECEIPT]
    assert allowed(Move.RECEIPT, S.SENT, S.DELIVERED) and allowed(Move.RECEIPT, S.UNKNOWN, S.DELIVERED)


def test_check_names_the_move_it_refuses():
    assert check(Move.OUTCOME, "sending", "sent") is S.SENT
    with pytest.raises(IllegalMove, match="from delivered to pending by claim"):
        check(Move.CLAIM, S.DELIVERED, S.PENDING)
    with pytest.raises(IllegalMove, match="from nothing to sent by create"):
        check(Move.CREATE, None, S.SENT)


@pytest.mark.parametrize("history, legal", [
    (["pending", "sending", "sent", "delivered"], True),
    (["pending", "sending", "unknown", "retry", "sending", "sent"], True),
    (["pending", "cancelled"], True),
    (["pending", "sending", "failed", "pending", "sending", "simulated"], True),
    (["pending", "sent"], False),  # sent without a claim
    (["pending", "sending", "unknown", "sending"], False),  # resent before it was reconciled
    (["delivered", "pending"], False),  # a first line is a new row
])
def test_a_send_log_history_is_checked_against_the_table(history, legal):
    assert legal_history(history) is legal


def _string_constants_outside_their_places(path: Path) -> list[tuple[int, str]]:
    """String constants that spell a delivery status, except in docstrings, in the bodies of other
    vocabularies' enums, and as dict keys (field names of a report, not statuses)."""
    tree = ast.parse(path.read_text())
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") == "StrEnum" for b in node.bases):
            exempt.update(id(n) for n in ast.walk(node))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            exempt.add(id(node.body[0].value))
        if isinstance(node, ast.Dict):
            exempt.update(id(k) for k in node.keys if k is not None)
        if isinstance(node, ast.Subscript):
            exempt.add(id(node.slice))
    values = {status.value for status in S} | {"preparing"}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in values and id(node) not in exempt]


def test_no_delivery_status_is_spelled_outside_the_enum():
    found = []
    for top in ("broadcaster", "workers", "bench"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts or path.name == "delivery_status.py":
                continue
            found += [f"{path.relative_to(ROOT)}:{line}: {value!r}"
                      for line, value in _string_constants_outside_their_places(path)]
    assert found == []
