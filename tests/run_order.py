"""The order a run hands tests to its pytest-xdist workers (a plugin of the root conftest: `pytest_plugins`)."""

# The longest tests, started first (the failover tests marked `slow`, then these, from `pytest --durations`):
# with the suite on three xdist workers handed one test at a time (`--maxschedchunk=1`, pyproject.toml), a
# long test started last would run alone at the end. Then the browser tests, then every test on a real broker
# (`redis_broker`: real `celery worker` processes, waits on leases and windows), then the rest in their
# files' order.
LONGEST_FIRST = (
    "tests/integration/test_readme_tour.py::test_the_readme_tour_run_literally",
    "tests/integration/test_social.py::test_with_a_window_of_10_posts",
    "tests/integration/test_delivery_recovery.py::test_after_a_sigkill_mid_fanout",
    "tests/integration/test_social.py::test_one_reply_per_post_under_concurrent_queueing",
    "tests/integration/test_delivery_engine.py::test_redis_restart_mid_fanout",
    "tests/integration/test_messages.py::test_an_approval_sms_is_logged_retried",
    "tests/integration/test_embedded_serve.py::test_a_maintenance_starts_and_ends_on_time",
    "tests/integration/test_delivery_engine.py::test_worker_killed_mid_fanout",
    "tests/integration/test_recipient_languages.py::",
    "tests/integration/test_static_on_publish.py::test_importing_registers_nothing",
    "tests/integration/test_subscribers_import.py::test_a_file_longer_than_one_batch",
    "tests/integration/test_webhook_signup.py::test_the_status_page_answers_while_forty_sign_ups",
    "tests/integration/test_store.py::test_upgrading_",
    "tests/integration/test_api_fuzz.py::",
    "tests/unit/render/test_catalogs.py::test_a_template_changed_without_regenerating",
    "tests/integration/test_public_fuzz.py::",
    "tests/integration/test_dashboard_odd_input.py::",
    "tests/unit/test_docs.py::test_the_site_builds_strictly",
)


def _started_at(item) -> tuple[int, int]:
    if item.get_closest_marker("slow"):  # the failover tests: their own servers, a fan-out of 20,000
        return 0, -1
    for rank, prefix in enumerate(LONGEST_FIRST):
        if item.nodeid.startswith(prefix):
            return 0, rank
    if item.nodeid.startswith("tests/e2e/"):
        # Next, beside the long tests: a browser test mostly waits (for a page's poll, for Chromium), and
        # run last, on their own, those waits left the cores idle at the end of the run. A worker closes
        # its browser before its first test that does not use it (tests/e2e/conftest.py), so it runs
        # asyncio again after them.
        return 0, len(LONGEST_FIRST)
    if "redis_broker" in getattr(item, "fixturenames", ()):
        # Those on SQLite, then those on PostgreSQL, each in file order: a test takes the `celery worker`
        # processes its pytest process kept from an earlier test only if their settings are the same
        # (tests/integration/worker_pools.py), and tests next to each other then mostly share them.
        on_postgres = getattr(item, "callspec", None) and item.callspec.params.get("backend") == "postgresql"
        return 1, int(bool(on_postgres))
    return 2, 0


def pytest_collection_modifyitems(config, items):
    """The longest tests first (see LONGEST_FIRST); a stable sort keeps each file's order otherwise."""
    items.sort(key=_started_at)
