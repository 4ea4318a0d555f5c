"""Fixtures of the social queue's tests: the fake X server, and the API tests' installation pointed at it
with its statement live (the API and dashboard tests)."""

import pytest

from broadcaster.approvals import decisions
from broadcaster.channels import _xbudget
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import publishing, statements
from broadcaster.people import auth
from tests.conftest import actor, add_subscriber, add_user, make_settings
from tests.fakes.server import running_fake
from tests.fakes.x_server import running_x, x_settings
from tests.integration.api_fixtures import install
from tests.integration.worker_pools import Keeper, KeptWorkers


@pytest.fixture(scope="session")
def provider_fake():
    """The fast fake provider (Twilio, SendGrid, X): one process per pytest worker for the whole run,
    started once (a start is a Python process importing its server)."""
    with running_fake() as server:
        yield server


@pytest.fixture(scope="session")
def worker_keeper():
    """The `celery worker` processes parked between the tests of this pytest process (worker_pools.py)."""
    keeper = Keeper()
    yield keeper
    keeper.close()


@pytest.fixture
def kept_workers(worker_keeper, tmp_path):
    """`kept_workers(env)`: `Workers` for this test that start by taking the workers an earlier test of this
    pytest process left with the same environment and arguments, and park them at the end if idle. A
    test's fixture calls `stop_all()` as with `Workers`; whatever it did not stop is stopped here."""
    made: list[KeptWorkers] = []

    def make(env: dict[str, str]) -> KeptWorkers:
        made.append(KeptWorkers(env, tmp_path, keeper=worker_keeper))
        return made[-1]

    yield make
    for pool in made:
        pool.stop_all()


@pytest.fixture
def fake(provider_fake):
    """The fake provider with nothing of the tests before it: every message, count and fault forgotten.
    (A test's workers are stopped before the next test starts: nothing of theirs arrives late.)"""
    provider_fake.reset()
    return provider_fake


@pytest.fixture
def x():
    """The fake X, and X's budget as the embedded default keeps it (in this process) fresh: no test
    inherits another's window."""
    _xbudget._memory.states.clear()
    with running_x() as fake:
        yield fake
    _xbudget._memory.states.clear()


@pytest.fixture
def social_site(database_url, x):
    """The installation of the API tests, pointed at the fake X, with its statement approved and live (its
    post on X sent) and replies sent as soon as they are queued."""
    settings = make_settings(database_url, **x_settings(x), x_rate="100000/second", social_page_size=10)
    installation = install(settings, dispatch=send_now)
    add_user(settings, "tess", ["social"])
    installation.tokens["tess"] = auth.create_token(settings, "tess", "social")["token"]
    decisions.approve(settings, actor(settings, "bob"), installation.statement_id, installation.content_hash)
    publishing.publish(settings, actor(settings, "alice"), installation.statement_id, dispatch=send_now)
    installation.settings = settings
    return installation




@pytest.fixture
def world(settings):
    """Two authors' worth of people and two subscribers (one only for Billing); returns an open
    incident's id (Login and API)."""

    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], phone="+14155550100")
    add_user(settings, "carol", ["approver"])
    add_subscriber(settings, email="c1@example.com", phone="+14155550123")
    add_subscriber(settings, email="c2@example.com", components=["Billing"])
    incident = statements.open_incident(settings, actor(settings, "alice"), "Login failures", "major",
                                        ["Login", "API"])
    return incident["id"]
