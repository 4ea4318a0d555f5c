"""Passwords, sessions, API tokens and login rate limits, on a real database."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update
from typer.testing import CliRunner

from broadcaster.cli.common import app as cli_app
from broadcaster.config import get_settings
from broadcaster.domain.approval import Role
from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.people import auth
from broadcaster.store.access_models import WebSession
from broadcaster.store.db import engine_for, transaction
from broadcaster.store.models import AuditEvent, User, utcnow
from tests.conftest import add_user

PASSWORD = "correct horse battery"


@pytest.fixture
def alice(settings):
    add_user(settings, "alice", ["author", "approver"])
    auth.set_password(settings, "alice", PASSWORD)
    return settings


def audit_actions(settings) -> list[str]:
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_passwords_are_stored_as_argon2_hashes_never_as_given(alice):
    with transaction(alice.database_url) as s:
        stored = s.scalar(select(User.password_hash).where(User.name == "alice"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_with_the_right_password_gives_the_users_roles_and_is_audited(alice):
    actor = auth.login(alice, "alice", PASSWORD, "10.0.0.1")
    assert actor.name == "alice" and actor.roles == {Role.AUTHOR, Role.APPROVER}
    assert audit_actions(alice)[-1] == "login"


@pytest.mark.parametrize("name, password", [("alice", "wrong password!"), ("mallory", PASSWORD)])
def test_a_wrong_name_or_password_is_refused_with_the_same_words_and_audited(alice, name, password):
    with pytest.raises(NotAllowed, match="^login: wrong name or password$"):
        auth.login(alice, name, password, "10.0.0.1")
    assert audit_actions(alice)[-1] == "refused: login"


def test_short_passwords_are_refused_saying_the_minimum(alice):
    with pytest.raises(InvalidInput, match="at least 12 characters, got 5"):
        auth.set_password(alice, "alice", "short")


def test_login_attempts_are_limited_per_account_even_with_the_right_password_after(alice):
    settings = alice.model_copy(update={"login_rate_per_account": "3/minute"})
    for n in range(3):
        with pytest.raises(NotAllowed):
            auth.login(settings, "alice", f"guess number {n}", f"10.0.1.{n}")
    with pytest.raises(auth.TooManyAttempts, match="too many attempts for this account"):
        auth.login(settings, "alice", PASSWORD, "10.0.1.9")


def test_login_attempts_are_limited_per_address_across_accounts(alice):
    settings = alice.model_copy(update={"login_rate_per_address": "2/minute"})
    for name in ("bob", "carol"):
        with pytest.raises(NotAllowed):
            auth.login(settings, name, "guess guess guess", "10.0.2.1")
    with pytest.raises(auth.TooManyAttempts, match="for this address"):
        auth.login(settings, "alice", PASSWORD, "10.0.2.1")
    assert auth.login(settings, "alice", PASSWORD, "10.0.2.2").name == "alice"


def test_a_session_knows_its_user_until_logout(alice):
    cookie, csrf = auth.start_session(alice, auth.login(alice, "alice", PASSWORD, "10.0.3.1"))
    session = auth.session_for(alice, cookie)
    assert (session.actor.name, session.csrf_token) == ("alice", csrf)
    auth.end_session(alice, cookie)
    with pytest.raises(auth.NotAuthenticated, match="log in again"):
        auth.session_for(alice, cookie)


def test_a_session_and_its_user_are_read_in_one_query(alice):
    """Every dashboard page and form reads the session: one round trip, not one more for its user."""
    cookie, _ = auth.start_session(alice, auth.login(alice, "alice", PASSWORD, "10.0.3.3"))
    engine, selects = engine_for(alice.database_url), []

    def count(_connection, _cursor, statement, *_):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        session = auth.session_for(alice, cookie)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert session.actor.name == "alice" and set(session.actor.roles) == {Role.AUTHOR, Role.APPROVER}
    assert len(selects) == 1, selects


def test_an_expired_session_is_refused(alice):
    cookie, _ = auth.start_session(alice, auth.login(alice, "alice", PASSWORD, "10.0.3.2"))
    with transaction(alice.database_url) as s:
        s.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(auth.NotAuthenticated):
        auth.session_for(alice, cookie)


def test_a_token_acts_in_its_one_role_until_revoked(alice):
    token = auth.create_token(alice, "alice", "approver")
    assert token["token"].startswith("bct_")
    assert auth.token_actor(alice, token["token"]).roles == {Role.APPROVER}
    assert "token" not in auth.list_tokens(alice)[0]  # shown once, never listed
    auth.revoke_token(alice, token["id"])
    with pytest.raises(auth.NotAuthenticated, match="revoked"):
        auth.token_actor(alice, token["token"])


def test_a_token_loses_a_role_its_user_lost(alice):
    token = auth.create_token(alice, "alice", "approver")
    with transaction(alice.database_url) as s:
        s.execute(update(User).values(roles="author"))
    assert auth.token_actor(alice, token["token"]).roles == frozenset()


def test_a_token_cannot_have_a_role_its_user_lacks(alice):
    with pytest.raises(InvalidInput, match="does not have the role admin"):
        auth.create_token(alice, "alice", "admin")


def test_a_refused_permission_is_audited_with_the_actor(alice):
    actor = auth.login(alice, "alice", PASSWORD, "10.0.4.1")
    with pytest.raises(NotAllowed, match="cannot manage users: needs role admin"):
        auth.authorize(alice, actor, "manage users", "users")
    with transaction(alice.database_url) as s:
        event = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.actor_id) == ("refused: manage users", actor.id)


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_user_add_with_password_prompts_twice_and_never_echoes(cli, settings):
    result = cli.invoke(cli_app, ["user", "add", "root", "--role", "admin", "--password"],
                        input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert auth.login(settings, "root", PASSWORD, "10.0.5.1").roles == {Role.ADMIN}


def test_user_add_with_password_asks_who_you_are_before_the_password(cli, settings):
    add_user(settings, "chief", ["admin"])
    add_user(settings, "alice", ["author"])
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    nobody = cli.invoke(cli_app, ["user", "add", "bob", "--role", "approver", "--password"], input=typed)
    assert (nobody.exit_code, "password" in nobody.output.lower()) == (1, False)  # not prompted at all
    assert str(nobody.exception) == "who: say who you are with --as NAME or BROADCASTER_USER"
    author = cli.invoke(cli_app, ["user", "add", "bob", "--role", "approver", "--password", "--as", "alice"],
                        input=typed)
    assert (author.exit_code, "password" in author.output.lower()) == (1, False)
    assert str(author.exception) == "alice cannot manage users: needs role admin (has author)"
    admin = cli.invoke(cli_app, ["user", "add", "bob", "--role", "approver", "--password", "--as", "chief"],
                       input=typed)
    assert admin.exit_code == 0, admin.output
    assert auth.login(settings, "bob", PASSWORD, "10.0.5.3").name == "bob"


def test_user_passwd_changes_the_password(cli, settings):
    add_user(settings, "bob", ["approver"])
    result = cli.invoke(cli_app, ["user", "passwd", "bob", "--as", "bob"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0 and PASSWORD not in result.output
    assert auth.login(settings, "bob", PASSWORD, "10.0.5.2").name == "bob"


def test_token_create_shows_the_token_once_and_revoke_stops_it(cli, settings):
    add_user(settings, "bot", ["author"])
    created = cli.invoke(cli_app, ["token", "create", "--as", "bot", "--role", "author"])
    secret = next(word for word in created.output.split() if word.startswith("bct_"))
    assert auth.token_actor(settings, secret).name == "bot"
    assert cli.invoke(cli_app, ["token", "revoke", "1", "--as", "bot"]).exit_code == 0
    with pytest.raises(auth.NotAuthenticated):
        auth.token_actor(settings, secret)

