"""Who hears from Broadcaster: subscribers, one address per recipient channel they want.

Adding and removing is for admins (`manage subscribers`), audited with its actor; the public
form's sign-ups are in `signup.py`, CSV imports in `csv_import.py`.
"""

from collections.abc import Iterable

from sqlalchemy import func, or_, select

from .. import channels
from ..config import Settings
from ..domain.approval import Actor
from ..domain.errors import InvalidInput
from ..domain.locales import normalise_tag
from ..store.models import Subscriber
from ..usecase import acting, get, log_action, page, unit_of_work


def subscriber_view(subscriber: Subscriber) -> dict:
    """Its id, its address on each recipient channel and the language it reads updates in."""
    return {"id": subscriber.id,
            **{ch.address: getattr(subscriber, ch.address) for ch in channels.recipient_channels()},
            "locale": subscriber.locale}


def list_subscribers(settings: Settings, search: str = "", limit: int = 100, offset: int = 0) -> dict:
    """A page of subscribers; `search` matches any part of any address."""
    with unit_of_work(settings) as s:
        query = select(Subscriber)
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(or_(*(func.lower(getattr(Subscriber, ch.address)).like(pattern)
                                      for ch in channels.recipient_channels())))
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = s.scalars(query.order_by(Subscriber.id).limit(limit).offset(offset))
        items = [{**subscriber_view(r), "components": list(r.components),
                  "opted_out": r.opted_out_at is not None} for r in rows]
        return page(items, total, limit, offset)


def add_subscriber(settings: Settings, actor: Actor, components: Iterable[str] = (), locale: str | None = None,
                   **addresses: str | None) -> dict:
    """A new subscriber with one address per channel they want (``email=``, ``phone=``, any
    recipient channel's address field), added by an admin and audited, reading updates in `locale`
    (a language tag, 'es' or 'pt-BR'; None: the installation's default). A channel may give a new
    address more (a webhook's signing secret): it is returned once, here, for the subscriber to keep."""
    language = normalise_tag(locale, "subscriber: locale") if locale else settings.default_locale
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
    with acting(settings, actor, "manage subscribers", "subscribers") as s:
        taken = [(name, found) for name, value in values.items() if name in fields
                 and (found := s.scalar(select(Subscriber.id).where(getattr(Subscriber, name) == value)))]
        if taken:
            name, found = taken[0]
            raise InvalidInput(f"{name}: {values[name]} is already subscriber {found}; nothing was added "
                               "(`broadcaster subscribers import` updates existing subscribers from a CSV file)")
        subscriber = Subscriber(components=list(components), locale=language, **values)
        s.add(subscriber)
        s.flush()
        log_action(s, actor, "add subscriber", f"subscriber:{subscriber.id}", {})
        secrets_once = {k: v for k, v in values.items() if k not in fields}
        return {**subscriber_view(subscriber), **secrets_once}


def remove_subscriber(settings: Settings, actor: Actor, subscriber_id: int) -> dict:
    """Forget a subscriber (their past sends stay in the send log, which holds the address)."""
    with acting(settings, actor, "manage subscribers", f"subscriber:{subscriber_id}") as s:
        subscriber = get(s, Subscriber, subscriber_id)
        view = subscriber_view(subscriber)
        s.delete(subscriber)
        log_action(s, actor, "remove subscriber", f"subscriber:{subscriber_id}", {})
        return view
