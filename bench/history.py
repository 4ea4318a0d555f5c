"""Pages and API lists after a year of incidents: each read's time and SQL statements at a small history
and at a long one, in one run, and the ratio between them (1.0x: the read does not grow with history).

    python bench/history.py [sqlite|postgresql] [--small 150] [--large 2000] [--repeats 5]

The rows are bulk inserts (tests/integration/history_data.py: resolved incidents, three versions
each) on top of the API tests' installation (users, one incident with a statement waiting for
approval). Each path is asked `--repeats` times through the app in process (TestClient, no network);
the median is printed. PostgreSQL: a database of its own on BROADCASTER_BENCH_POSTGRES (default the
test server's), dropped at the end.
"""

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests.integration

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.rig import scratch_database  # noqa: E402
from broadcaster.people import auth  # noqa: E402
from broadcaster.store.db import migrate  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.integration.api_fixtures import seed, serve  # noqa: E402
from tests.integration.history_data import add_history  # noqa: E402

PASSWORD = "correct horse battery"
PAGES = ["/dashboard", "/dashboard/board", "/dashboard/inbox", "/dashboard/send-log", "/dashboard/consistency"]
API = ["/api/v1/consistency", "/api/v1/incidents?limit=100",
       "/api/v1/statements?limit=100", "/api/v1/statements?limit=100&cursor=o300",
       "/api/v1/incidents/1"]


class Statements:
    """SQL statements sent, counted only while `on`."""

    def __init__(self):
        self.on, self.count = False, 0
        event.listen(Engine, "before_cursor_execute", self._one)

    def _one(self, *_):
        self.count += self.on


def log_in(client) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def measure(client, headers: dict, counter: Statements, repeats: int) -> dict[str, tuple[float, int]]:
    """{path: (median ms, SQL statements of one request)}"""
    found = {}
    for path in PAGES + API:
        given = headers if path.startswith("/api/") else {}
        times = []
        for _ in range(repeats):
            counter.count, counter.on = 0, True
            started = time.perf_counter()
            response = client.get(path, headers=given)
            times.append((time.perf_counter() - started) * 1000)
            counter.on = False
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
        found[path] = (statistics.median(times), counter.count)
    return found


def run(url: str, small: int, large: int, repeats: int) -> None:
    migrate(url)
    settings = make_settings(url)
    seeded = seed(settings)
    auth.set_password(settings, "alice", PASSWORD)
    site = serve(settings, seeded, dispatch=lambda settings, ids: None)
    log_in(site.client)
    headers = site.as_role("author")
    counter = Statements()
    add_history(settings, small)
    measure(site.client, headers, counter, 1)  # warm: templates compiled, statements cached
    before = measure(site.client, headers, counter, repeats)
    add_history(settings, large - small)
    after = measure(site.client, headers, counter, repeats)
    backend = url.split(":")[0].split("+")[0]
    print(f"{backend}: {small + 1} incidents -> {large + 1} incidents (median of {repeats})")
    for path in PAGES + API:
        (ms_small, q_small), (ms_large, q_large) = before[path], after[path]
        print(f"  {path:48} {ms_small:8.1f} ms -> {ms_large:8.1f} ms ({ms_large / ms_small:5.1f}x); "
              f"SQL {q_small:5} -> {q_large:5}")
    worst = max(PAGES + API, key=lambda p: after[p][0] / before[p][0])
    print(f"history: {backend}, slowest growth {worst} {after[worst][0] / before[worst][0]:.1f}x; "
          f"most SQL at {large + 1} incidents: {max(q for _, q in after.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", nargs="?", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--small", type=int, default=150)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with scratch_database(args.backend, "history") as url:
        run(url, args.small, args.large, args.repeats)

if __name__ == "__main__":
    main()
