"""CPU per statement flow, in one process: draft → submit → approve → publish → send in-process
(`tests/integration/surfaces_data.py::publish_update`, the flow hundreds of tests and every incident take).

    python bench/statement_flow.py [sqlite|postgresql] [--flows 40] [--profile]

Each round opens an incident (not timed) and publishes two versions of it (timed; the second supersedes
the first). Prints CPU and wall milliseconds per flow and the SQL statements and commits per flow (those
two do not depend on the machine's load); `--profile` adds a cProfile of broadcaster/. PostgreSQL: a
database of its own on BROADCASTER_BENCH_POSTGRES (default the test server's), dropped at the end.
"""

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests.integration.surfaces_data

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.rig import scratch_database  # noqa: E402
from broadcaster.store.db import migrate  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.integration.surfaces_data import open_incident, publish_update  # noqa: E402


class Counts:
    """SQL statements and commits, counted only while `on`."""

    def __init__(self):
        self.on, self.statements, self.commits = False, 0, 0
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)

    def _statement(self, *_):
        self.statements += self.on

    def _commit(self, *_):
        self.commits += self.on


def two_versions(settings) -> None:
    incident = open_incident(settings)
    publish_update(settings, incident)
    publish_update(settings, incident, status="identified")


def run(url: str, flows: int, profile: bool) -> None:
    migrate(url)
    settings = make_settings(url)
    for _ in range(2):  # warm: templates compiled, statements cached
        two_versions(settings)
    counts, cpu, wall = Counts(), 0.0, 0.0
    for _ in range(flows // 2):
        incident = open_incident(settings)
        counts.on = True
        started, cpu_started = time.perf_counter(), time.process_time()
        publish_update(settings, incident)
        publish_update(settings, incident, status="identified")
        cpu += time.process_time() - cpu_started
        wall += time.perf_counter() - started
        counts.on = False
    done = flows // 2 * 2
    print(f"{url.split(':')[0]}: {cpu / done * 1000:.1f} CPU ms, {wall / done * 1000:.1f} wall ms, "
          f"{counts.statements / done:.1f} SQL statements, {counts.commits / done:.1f} commits per flow")
    if profile:
        profiler = cProfile.Profile()
        for _ in range(flows // 2):
            profiler.runcall(two_versions, settings)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"broadcaster/", 40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", nargs="?", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--flows", type=int, default=40)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with scratch_database(args.backend, "flow") as url:
        run(url, args.flows, args.profile)

if __name__ == "__main__":
    main()
