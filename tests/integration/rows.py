"""Rows for callback tests, written straight into the database: a delivery needs a statement,
which needs an incident and a user. Shared by the callback, webhook and API tests."""

from sqlalchemy import func, select

from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, DeliveryEvent, Incident, Statement, Subscriber, User


def make_statement(settings) -> int:
    with transaction(settings.database_url) as s:
        user = User(name="alice", roles="author")
        s.add(user)
        s.flush()
        incident = Incident(title="Login failures", impact="major", status="investigating", components=["Login"],
                            opened_by_id=user.id)
        s.add(incident)
        s.flush()
        statement = Statement(incident_id=incident.id, version=1, state="published", status="investigating",
                              impact="major", components=["Login"], headline="Some customers cannot log in",
                              body="We are investigating.", author_id=user.id)
        s.add(statement)
        s.flush()
        return statement.id


def make_delivery(settings, statement_id: int, channel: str = "sms", target: str = "+14155550123",
                  provider: str = "twilio", status: str = "sent", provider_message_id: str | None = None) -> int:
    with transaction(settings.database_url) as s:
        delivery = Delivery(statement_id=statement_id, channel=channel, target=target, provider=provider,
                            status=status, attempts=1, provider_message_id=provider_message_id)
        s.add(delivery)
        s.flush()
        return delivery.id


def make_subscriber(settings, email: str | None = None, phone: str | None = None) -> int:
    with transaction(settings.database_url) as s:
        subscriber = Subscriber(email=email, phone=phone)
        s.add(subscriber)
        s.flush()
        return subscriber.id


def delivery(settings, delivery_id: int) -> Delivery:
    with transaction(settings.database_url) as s:
        return s.get(Delivery, delivery_id)


def events(settings, delivery_id: int) -> list[str]:
    """The statuses the send log holds for one delivery, oldest first."""
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(DeliveryEvent.status).where(DeliveryEvent.delivery_id == delivery_id)
                              .order_by(DeliveryEvent.id)))


def event_count(settings) -> int:
    with transaction(settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(DeliveryEvent))


def subscriber(settings, subscriber_id: int) -> Subscriber:
    with transaction(settings.database_url) as s:
        return s.get(Subscriber, subscriber_id)
