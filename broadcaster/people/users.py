"""Who uses Broadcaster: users, their roles and their contact details (for approval requests and
holding links). Granting roles is for admins, audited."""

import re
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.approval import PERMISSIONS, Actor, Role
from ..domain.contacts import SLACK_USER_ID_PATTERN, normalise_email, normalise_phone
from ..domain.errors import InvalidInput, NotAllowed, NotFound
from ..domain.incident import parse_choice, refuse_too_long
from ..store.db import lock_for_writing
from ..store.models import User
from ..store.row_views import user_view
from ..usecase import acting, log_action, unit_of_work

NAME_MAX_CHARS = 100  # what the users table keeps
SLACK_USER_ID = re.compile(SLACK_USER_ID_PATTERN)


def actor_named(settings: Settings, name: str | None) -> Actor:
    """The user `name` as an actor, for the CLI (the web app authenticates its own)."""
    if not name:
        raise InvalidInput("who: say who you are with --as NAME or BROADCASTER_USER")
    with unit_of_work(settings) as s:
        user = s.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"user {name!r} does not exist: add them with `broadcaster user add {name} --role ...`")
        return Actor(user.id, user.name, frozenset(Role(r) for r in user.role_list))


def add_user(settings: Settings, actor: Actor | None, name: str, roles: Iterable[str], email: str | None = None,
             phone: str | None = None) -> dict:
    """Add a user. Only an admin may, once there is one: granting roles is granting the power to
    approve. The very first user may be added by anyone (there is no one to ask) and must be an
    admin; that row's audit event names the new admin as its own actor."""
    role_values = _roles(roles)
    name = name.strip()
    if not name:
        raise InvalidInput("name: must not be empty")
    refuse_too_long("name", name, NAME_MAX_CHARS)
    with unit_of_work(settings) as s:
        first = not s.scalar(select(func.count()).select_from(User))
    if first:
        return _add_first_admin(settings, name, role_values, email, phone)
    if actor is None:
        raise NotAllowed("only an admin can add users: say who you are with --as ADMIN")
    with acting(settings, actor, "manage users", f"user:{name}") as s:
        if s.scalar(select(User).where(User.name == name)):
            raise InvalidInput(f"name: user {name!r} already exists; `broadcaster user roles {name} --role ...` "
                               "changes their roles")
        user = _new_user(s, name, role_values, email, phone)
        log_action(s, actor, "add user", f"user:{user.id}", {"name": user.name, "roles": role_values})
        return user_view(user)


def set_roles(settings: Settings, actor: Actor, name: str, roles: Iterable[str]) -> dict:
    """Change a user's roles (admins only). The last admin cannot stop being one: the admins are
    counted with every user row locked (SQLite: the write lock), so two admins demoting each other at
    once take turns, and the second finds one admin left (or that they are no longer one)."""
    role_values = _roles(roles)
    with acting(settings, actor, "manage users", f"user:{name}") as s:
        users = _every_user_locked(s)
        me = next((u for u in users if u.id == actor.id), None)
        if me is None or not {r.value for r in PERMISSIONS["manage users"]} & set(me.role_list):
            raise NotAllowed(f"{actor.name} cannot manage users: their roles changed a moment ago")
        user = next((u for u in users if u.name == name), None)
        if user is None:
            raise NotFound(f"user {name!r} does not exist: `broadcaster user list` shows who does")
        admins = sum(Role.ADMIN.value in u.role_list for u in users)
        if Role.ADMIN.value in user.role_list and Role.ADMIN.value not in role_values and admins == 1:
            raise NotAllowed(f"{name} is the last admin: make someone else admin first")
        before = user.role_list
        user.roles = ",".join(role_values)
        log_action(s, actor, "set roles", f"user:{user.id}", {"name": name, "from": before, "to": role_values})
        return user_view(user)


def set_slack_id(settings: Settings, actor: Actor, name: str, slack_user_id: str | None) -> dict:
    """Map a user to their Slack member id (admins only; None or "" clears it): approval requests go to
    it as a DM, and a click on Approve in Slack by that member acts as this user. One member, one user."""
    slack_user_id = normalise_slack_id(slack_user_id) if slack_user_id else None
    with acting(settings, actor, "manage users", f"user:{name}") as s:
        user = s.scalar(select(User).where(User.name == name).with_for_update())
        if user is None:
            raise NotFound(f"user {name!r} does not exist: `broadcaster user list` shows who does")
        taken = slack_user_id and s.scalar(select(User).where(User.slack_user_id == slack_user_id, User.id != user.id))
        if taken:
            raise InvalidInput(f"slack_user_id: {slack_user_id} is already {taken.name}'s; one Slack member "
                               "speaks for one user")
        before, user.slack_user_id = user.slack_user_id, slack_user_id
        log_action(s, actor, "set slack id", f"user:{user.id}", {"name": name, "from": before, "to": slack_user_id})
        return user_view(user)


def normalise_slack_id(value: str) -> str:
    """A Slack member id as Slack shows it (profile → ⋮ → Copy member ID): `U` or `W`, then 8 to 19
    capital letters and digits."""
    text = value.strip().upper()
    if not SLACK_USER_ID.fullmatch(text):
        raise InvalidInput(f"slack_user_id: {value[:40]!r} is not a Slack member id (like U0123ABCD: in Slack, "
                           "open the profile, ⋮, Copy member ID)")
    return text


def user_with_slack_id(s, slack_user_id: str | None) -> User | None:
    """The user mapped to this Slack member, if any."""
    if not slack_user_id or not SLACK_USER_ID.fullmatch(slack_user_id):
        return None
    return s.scalar(select(User).where(User.slack_user_id == slack_user_id))


def _add_first_admin(settings: Settings, name: str, role_values: list[str], email: str | None,
                     phone: str | None) -> dict:
    if Role.ADMIN.value not in role_values:
        raise InvalidInput(f"the first user must be an admin (only an admin can add the others): "
                           f"add {name} with --role admin")
    with unit_of_work(settings) as s:
        if s.scalar(select(func.count()).select_from(User)):  # someone was quicker
            raise NotAllowed("only an admin can add users: say who you are with --as ADMIN")
        user = _new_user(s, name, role_values, email, phone)
        log_action(s, Actor(user.id, user.name, frozenset(Role(r) for r in role_values)), "add first admin",
                   f"user:{user.id}", {"name": user.name, "roles": role_values})
        return user_view(user)


def _new_user(s: Session, name: str, role_values: list[str], email: str | None, phone: str | None) -> User:
    user = User(name=name, roles=",".join(role_values), email=normalise_email(email) if email else None,
                phone=normalise_phone(phone) if phone else None)
    s.add(user)
    s.flush()
    return user


def _roles(roles: Iterable[str]) -> list[str]:
    role_values = sorted({parse_choice(Role, role, "role").value for role in roles})
    if not role_values:
        raise InvalidInput(f"role: give at least one of {', '.join(r.value for r in Role)}")
    return role_values


def _every_user_locked(s: Session) -> list[User]:
    lock_for_writing(s)
    return list(s.scalars(select(User).order_by(User.id).with_for_update()
                          .execution_options(populate_existing=True)))  # as committed, not as first read


def has_users(settings: Settings) -> bool:
    with unit_of_work(settings) as s:
        return bool(s.scalar(select(func.count()).select_from(User)))


def list_users(settings: Settings) -> list[dict]:
    with unit_of_work(settings) as s:
        return [user_view(u) for u in s.scalars(select(User).order_by(User.id))]


def add_user_with_password(settings: Settings, actor: Actor, name: str, roles: list[str], email: str | None = None,
             phone: str | None = None, password: str | None = None) -> dict:
    """A user who can log in to the web app at once (the password is checked before anything is added)."""
    from . import auth  # here: the other use cases, and every CLI command's `--as`, need none of it

    if password is not None:
        auth.check_password(password)
    user = add_user(settings, actor, name, roles, email, phone)  # checks the actor is an admin, audits
    if password is not None:
        auth.set_password(settings, user["name"], password, actor)
    return user


def user_with_number(s, sender: str | None) -> User | None:
    """The user whose registered phone sent this text (as Twilio gives it), if any."""
    try:
        number = normalise_phone(sender or "")
    except InvalidInput:
        return None
    return s.scalar(select(User).where(User.phone == number))
