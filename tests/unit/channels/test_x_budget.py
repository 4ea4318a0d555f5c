"""X's posting budget: read from X's headers, statements keep a reserve, a 429 waits for the reset."""

from broadcaster.channels._xbudget import REPLY, RESET_MARGIN, STATEMENT, decide, merge, reserve_of

ASSUMED = (10, 900.0)
NOW = 1_000_000.0


def headers(remaining: int, reset: float, limit: int = 10, day: dict | None = None) -> dict[str, str]:
    h = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": str(reset)}
    h.update({f"x-user-limit-24hour-{k}": str(v) for k, v in (day or {}).items()})
    return h


def spend(state, kind, n, now=NOW):
    granted = 0
    for _ in range(n):
        wait, state = decide(state, now, kind, 0.2, ASSUMED)
        granted += wait == 0
    return granted, state


def test_replies_leave_the_reserve_of_each_window_to_statements():
    granted, state = spend({}, REPLY, 50)
    assert granted == 8 and reserve_of(10, 0.2) == 2
    statements, state = spend(state, STATEMENT, 5)
    assert statements == 2


def test_a_reply_that_may_not_go_waits_for_the_window_reset_it_knows():
    state = merge({}, headers(remaining=2, reset=NOW + 30), NOW)
    wait, _ = decide(state, NOW, REPLY, 0.2, ASSUMED)
    assert wait == 30 + RESET_MARGIN
    assert decide(state, NOW, STATEMENT, 0.2, ASSUMED)[0] == 0


def test_a_429_makes_everyone_wait_for_x_s_reset_statements_included():
    state = merge({"limit": 10, "remaining": 6, "reset": NOW + 100}, headers(remaining=0, reset=NOW + 40), NOW)
    assert decide(state, NOW, STATEMENT, 0.2, ASSUMED)[0] == 40 + RESET_MARGIN
    assert decide(state, NOW + 41, STATEMENT, 0.2, ASSUMED)[0] == 0  # the next window


def test_x_s_remaining_only_lowers_ours_while_our_grants_are_in_flight():
    _, state = spend({}, STATEMENT, 3)  # we granted 3; X has answered one of them so far
    state = merge(state, headers(remaining=9, reset=NOW + 899), NOW)
    assert (state["remaining"], state["reset"]) == (7, NOW + 899)


def test_a_late_answer_about_a_window_already_over_changes_nothing():
    state = {"limit": 10, "remaining": 4, "reset": NOW + 500}
    assert merge(state, headers(remaining=0, reset=NOW - 5), NOW) == state


def test_the_24_hour_allowance_keeps_its_reserve_too():
    day = {"limit": 17, "remaining": 4, "reset": NOW + 3600}
    state = merge({}, headers(remaining=50, reset=NOW + 900, limit=100, day=day), NOW)
    granted, state = spend(state, REPLY, 10)
    assert granted == 0  # 4 left of 17 a day, 4 kept for statements
    wait, _ = decide(state, NOW, REPLY, 0.2, ASSUMED)
    assert wait == 3600 + RESET_MARGIN
    assert decide(state, NOW, STATEMENT, 0.2, ASSUMED)[0] == 0


def test_without_any_word_from_x_the_configured_window_is_assumed():
    granted, state = spend({}, STATEMENT, 12)
    assert granted == 10 and state["reset"] == NOW + 900
