"""The public server outlives everything behind it (issue 23.4): `broadcaster serve --public`, in a
process of its own, on a PostgreSQL cluster and a Redis of this test's own. Both are stopped; every
public route still answers 200 with the last approved words, byte for byte; the phone line still
says the approved script and takes a call-back request; a STOP is answered; a public server
started during the outage answers from its spool's snapshot. When the database is back, the STOP
and the call-back request are applied."""

import xml.etree.ElementTree as ET

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator

from broadcaster.store import reconnect
from broadcaster.store.db import migrate, transaction
from broadcaster.store.models import CallbackRequest, Subscriber
from broadcaster.surfaces import ROUTES
from broadcaster.surfaces.spool import Spool
from tests import loopback
from tests.conftest import add_subscriber, make_settings
from tests.integration.private_services import PrivatePostgres, PrivateRedis, PublicServer, until
from tests.integration.surfaces_data import open_incident, publish_update, rendition

PUBLIC_URL = "https://status-admin.example.com"
TOKEN = "twilio-auth-token"
SUBSCRIBER = "+14155550123"
CALLER = "+14155550199"


def signed(server: PublicServer, path: str, form: dict) -> httpx.Response:
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + path, form)
    return loopback.post(server.url + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=20)


def says(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [element.text for element in ET.fromstring(response.content).iter() if element.tag in ("Say", "Message")]


@pytest.fixture
def services(tmp_path):
    postgres = PrivatePostgres()
    if not postgres.available():
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) to start a private cluster")
    postgres.create()
    redis = PrivateRedis().start()
    servers: list[PublicServer] = []
    yield postgres, redis, servers
    for server in servers:
        server.stop()
    redis.stop()
    postgres.remove()


def test_every_public_route_answers_from_the_last_snapshot_while_the_database_and_redis_are_down(
        services, tmp_path):
    postgres, redis, servers = services
    migrate(postgres.url)
    values = {"public_notify_url": redis.url, "public_poll_seconds": 0.5, "public_url": PUBLIC_URL,
              "twilio_auth_token": TOKEN, "public_spool_path": tmp_path / "spool.sqlite3", "locales": ["es"],
              "sms_notify_on": "all"}
    settings = make_settings(postgres.url, **values)
    incident = open_incident(settings, "Login failures")
    statement = publish_update(settings, incident, headline="Logins fail")
    add_subscriber(settings, phone=SUBSCRIBER)
    script = rendition(settings, statement, "ivr")["script"]
    env = {f"BROADCASTER_{k.upper()}": str(v) if not isinstance(v, list) else ",".join(v) for k, v in values.items()}
    env |= {"BROADCASTER_DATABASE_URL": postgres.url, "BROADCASTER_BROKER_URL": redis.url}
    server = PublicServer(env, tmp_path).start()
    servers.append(server)
    paths = [*ROUTES, "/status?lang=es", "/banner.json?lang=es", "/feed.atom?lang=es"]
    before = {path: loopback.get(server.url + path, timeout=15).content for path in paths}
    assert b"Logins fail" in before["/banner.json"] and b"Logins fail" in before["/status"]

    postgres.stop()
    redis.stop()
    with pytest.raises(OperationalError), reconnect.without_waiting():  # really gone (asked once: no wait for
        with transaction(settings.database_url) as s:                    # it to come back, the clock moves on)
            s.execute(select(1))

    for path in paths:
        response = loopback.get(server.url + path, timeout=15)
        assert response.status_code == 200, path
        if path.startswith("/status"):  # drawn to the minute (the uptime bars, "Last updated"): same words
            assert b"Logins fail" in response.content or b"Logins fail" not in before[path], path
            assert response.content.count(b"Logins fail") == before[path].count(b"Logins fail"), path
        else:
            assert response.content == before[path], path
    # the phone line: the approved script, a call-back request taken, a STOP answered
    assert script in says(signed(server, "/ivr/voice?lang=en", {"From": CALLER, "CallSid": "CA1"}))
    recorded = says(signed(server, f"/ivr/gather?incident={incident}", {"From": CALLER, "Digits": "1"}))
    assert len(recorded) == 1 and "we will" in recorded[0]
    (stopped,) = says(signed(server, "/webhooks/twilio/inbound", {"From": SUBSCRIBER, "Body": "STOP"}))
    assert "no more status texts" in stopped
    # a public server (re)started during the outage answers from the snapshot its spool kept
    restarted = PublicServer(env, tmp_path).start()
    servers.append(restarted)
    for path in ("/banner.json", "/api/v2/summary.json"):
        assert loopback.get(restarted.url + path, timeout=15).content == before[path], path
    page = loopback.get(restarted.url + "/status", timeout=15)  # its uptime bars are drawn to this minute
    assert page.status_code == 200 and b"Logins fail" in page.content
    assert Spool(settings.public_spool_path).pending_count() == 2

    postgres.start()  # Redis stays down: the database alone is enough to replay

    def applied() -> bool:
        with transaction(settings.database_url) as s:
            opted_out = s.scalar(select(Subscriber.opted_out_at).where(Subscriber.phone == SUBSCRIBER))
            asked = s.scalars(select(CallbackRequest.phone).where(CallbackRequest.incident_id == incident)).all()
        return opted_out is not None and asked == [CALLER]

    until(applied, 60, poll=0.2)
    assert Spool(settings.public_spool_path).pending_count() == 0
    publish_update(settings, incident, status="identified", headline="We found the cause")
    until(lambda: b"We found the cause" in loopback.get(server.url + "/banner.json", timeout=15).content, 30)
