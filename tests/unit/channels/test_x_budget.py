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


def test_before_any_post_no_window_runs_so_no_reset_is_named_and_the_first_post_starts_one():
    """A snapshot before any post used to name 'now + 15 minutes' as the reset: a time that moved with every
    read. No window runs until a post (or X's word) starts one; once it ends, none runs again."""
    import time
    import uuid

    from broadcaster.channels._xbudget import _key, _memory, snapshot, take
    from tests.conftest import make_settings

    settings, account = make_settings("sqlite://", x_rate="100/15minutes", x_statement_reserve=0.2), uuid.uuid4().hex
    before = [snapshot(settings, account) for _ in range(2)]
    assert [b["window_resets_at"] for b in before] == [None, None]  # the same however often it is read
    assert (before[0]["window_remaining"], before[0]["replies_now"], before[0]["window_seconds"]) == (100, 80, 900.0)
    assert take(settings, account, REPLY) == 0
    started = snapshot(settings, account)
    assert started["window_resets_at"] is not None and started["window_remaining"] == 99
    assert snapshot(settings, account)["window_resets_at"] == started["window_resets_at"]  # a fixed time now
    _memory.states[_key(account)] = {**_memory.states[_key(account)], "reset": time.time() - RESET_MARGIN - 1}
    ended = snapshot(settings, account)  # that window is over, and nothing has posted since
    assert ended["window_resets_at"] is None and ended["window_remaining"] == 100
