"""An alert storm: N Alertmanager alerts in G groups posted by C concurrent clients to the full app under
uvicorn, against a floor: the same requests to a bare endpoint that only reads the body and answers
(same server, same client, one run). Checks the storm opened exactly one incident.

    python bench/alert_storm.py                       # 500 alerts, 50 groups of 10, 25 clients, SQLite
    python bench/alert_storm.py --groups 500          # 500 requests of one alert each
    python bench/alert_storm.py --postgres            # on PostgreSQL (database broadcaster_bench_alerts)
"""

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcaster.alerts import rules, sources  # noqa: E402
from broadcaster.playbooks import statement_templates as playbooks  # noqa: E402
from broadcaster.store.db import migrate  # noqa: E402
from broadcaster.web.app import create_app  # noqa: E402
from tests.conftest import actor, add_user, make_settings  # noqa: E402
from tests.e2e.conftest import LiveServer  # noqa: E402
from tests.integration.alert_fixtures import TEMPLATE, alertmanager_payload  # noqa: E402

PG = os.environ.get("BROADCASTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def database(postgres: bool) -> str:
    if not postgres:
        return f"sqlite:///{tempfile.mkdtemp()}/storm.db"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text('DROP DATABASE IF EXISTS "broadcaster_bench_alerts" WITH (FORCE)'))
        c.execute(text('CREATE DATABASE "broadcaster_bench_alerts"'))
    return PG.rsplit("/", 1)[0] + "/broadcaster_bench_alerts"


def storm(url: str, payloads: list[dict], token: str, clients: int) -> float:
    with ThreadPoolExecutor(clients) as pool, httpx.Client(timeout=120) as client:
        began = time.perf_counter()
        answers = list(pool.map(lambda p: client.post(url, json=p, headers={"Authorization": f"Bearer {token}"}),
                                payloads))
        took = time.perf_counter() - began
    assert all(a.status_code == 200 for a in answers), {a.status_code for a in answers}
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--clients", type=int, default=25)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    url = database(args.postgres)
    migrate(url)
    settings = make_settings(url, public_url="https://broadcaster.example.com")
    add_user(settings, "alice", ["author"], email="alice@example.com")
    playbooks.add_template(settings, actor(settings, "alice"), playbooks.TemplateInput(**TEMPLATE))
    token = sources.add_source(settings, actor(settings, "root"), "prom", "alertmanager")["token"]
    rules.add_rule(settings, actor(settings, "alice"), rules.RuleInput(name="login", template="login-down"))
    per_group = args.alerts // args.groups
    payloads = [alertmanager_payload("firing", group_key=f'{{}}:{{pod="{g}"}}',
                                     fingerprints=[f"{g:05d}{i:04d}" for i in range(per_group)])
                for g in range(args.groups)]

    app = create_app(settings)
    app.state.dispatch = lambda settings_, ids: None  # the notices are written; sending them is not measured
    floor = FastAPI()

    @floor.post("/webhooks/alerts/prom")
    async def bare(request: Request) -> dict:
        await request.body()
        return {"outcome": "floor"}

    floor_server, server = LiveServer(floor).start(), LiveServer(app).start()
    try:
        floor_took = storm(f"{floor_server.url}/webhooks/alerts/prom", payloads, token, args.clients)
        took = storm(f"{server.url}/webhooks/alerts/prom", payloads, token, args.clients)
    finally:
        server.stop()
        floor_server.stop()
    with create_engine(url).connect() as c:
        incidents = c.execute(text("SELECT count(*) FROM incidents")).scalar()
        alerts = c.execute(text("SELECT count(*) FROM alerts")).scalar()
    assert (incidents, alerts) == (1, per_group * args.groups), (incidents, alerts)
    load = os.getloadavg()[0]
    print(f"{'postgresql' if args.postgres else 'sqlite'}: {per_group * args.groups} alerts in {args.groups} requests, "
          f"{args.clients} clients: {took:.2f} s ({args.groups / took:.0f} requests/s, "
          f"{per_group * args.groups / took:.0f} alerts/s); floor {floor_took:.2f} s; "
          f"{floor_took / took:.0%} of the floor; 1 incident; load {load:.1f}")


if __name__ == "__main__":
    main()
