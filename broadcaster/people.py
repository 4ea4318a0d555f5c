"""Who uses Broadcaster (users and their roles) and who hears from it (subscribers)."""

from collections.abc import Iterable

from sqlalchemy import select

from . import channels
from .config import Settings
from .contacts import normalise_email, normalise_phone
from .domain.approval import Actor, Role
from .domain.errors import InvalidInput, NotFound
from .domain.incident import parse_choice
from .store.models import Subscriber, User
from .usecase import log_action, unit_of_work
from .views import subscriber_view, user_view


def actor_named(settings: Settings, name: str | None) -> Actor:
    """The user `name` as an actor, for the CLI (the web app authenticates its own)."""
    if not name:
        raise InvalidInput("who: say who you are with --as NAME or BROADCASTER_USER")
    with unit_of_work(settings) as s:
        user = s.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"user {name!r} does not exist: add them with `broadcaster user add {name} --role ...`")
        return Actor(user.id, user.name, frozenset(Role(r) for r in user.role_list))


def add_user(settings: Settings, name: str, roles: Iterable[str], email: str | None = None,
             phone: str | None = None) -> dict:
    role_values = sorted({parse_choice(Role, role, "role").value for role in roles})
    if not role_values:
        raise InvalidInput(f"role: give at least one of {', '.join(r.value for r in Role)}")
    if not name.strip():
        raise InvalidInput("name: must not be empty")
    with unit_of_work(settings) as s:
        if s.scalar(select(User).where(User.name == name)):
            raise InvalidInput(f"name: user {name!r} already exists")
        user = User(name=name.strip(), roles=",".join(role_values),
                    email=normalise_email(email) if email else None,
                    phone=normalise_phone(phone) if phone else None)
        s.add(user)
        s.flush()
        log_action(s, None, "add user", f"user:{user.id}", {"name": user.name, "roles": role_values})
        return user_view(user)


def list_users(settings: Settings) -> list[dict]:
    with unit_of_work(settings) as s:
        return [user_view(u) for u in s.scalars(select(User).order_by(User.id))]


def add_subscriber(settings: Settings, components: Iterable[str] = (), **addresses: str | None) -> dict:
    """A new subscriber with one address per channel they want (``email=``, ``phone=``, any
    recipient channel's address field). A channel may give a new address more (a webhook's
    signing secret): it is returned once, here, for the subscriber to keep."""
    fields = {ch.address: ch for ch in channels.recipient_channels()}
    unknown = sorted(set(addresses) - set(fields))
    if unknown:
        raise InvalidInput(f"subscriber: {unknown[0]} is not an address; use {', '.join(sorted(fields))}")
    given = {name: value for name, value in addresses.items() if value}
    if not given:
        raise InvalidInput(f"subscriber: give at least one of {', '.join(sorted(fields))}")
    values: dict[str, str] = {}
    for name, value in given.items():
        values[name] = fields[name].normalise(value)
        values.update(fields[name].new_subscriber() if fields[name].new_subscriber else {})
    with unit_of_work(settings) as s:
        taken = [name for name, value in values.items() if name in fields
                 and s.scalar(select(Subscriber.id).where(getattr(Subscriber, name) == value))]
        if taken:
            raise InvalidInput(f"{taken[0]}: {values[taken[0]]} is already a subscriber")
        subscriber = Subscriber(components=list(components), **values)
        s.add(subscriber)
        s.flush()
        secrets_once = {k: v for k, v in values.items() if k not in fields}
        return {**subscriber_view(subscriber), **secrets_once}
