"""Managing stakeholder audiences (the dashboard, the API and the CLI call these): create, list, show,
remove an audience; add and remove its members. Each change is one unit of work over an actor allowed
to "manage stakeholders", audited."""

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..config import Settings
from ..domain import field_limits as limits
from ..domain.approval import Actor
from ..domain.contacts import normalise_email, normalise_phone
from ..domain.errors import InvalidInput, NameTaken, NotFound
from ..domain.incident import parse_choice
from ..store.stakeholder_models import StakeholderAudience, StakeholderMember
from ..usecase import acting, log_action, unit_of_work
from .sends_on import SendsOn

MOST_AUDIENCES = 100
MOST_MEMBERS = 500


class AudienceInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=60, pattern=r"^[\w .&'()-]+$")
    description: str = Field(default="", max_length=500)
    sends_on: str = SendsOn.EVERY.value


class MemberInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=limits.EMAIL)
    phone: str | None = Field(default=None, max_length=limits.PHONE)


def _checked(model: type[BaseModel], values: dict) -> BaseModel:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) \
            from None


def audience_view(audience: StakeholderAudience) -> dict:
    return {"id": audience.id, "name": audience.name, "description": audience.description,
            "sends_on": audience.sends_on,
            "members": [{"id": m.id, "name": m.name, "email": m.email, "phone": m.phone} for m in audience.members]}


def list_audiences(settings: Settings) -> list[dict]:
    with unit_of_work(settings) as s:
        return [audience_view(a) for a in s.scalars(select(StakeholderAudience).order_by(StakeholderAudience.name))]


def get_audience(settings: Settings, name_or_id: str | int) -> dict:
    with unit_of_work(settings) as s:
        return audience_view(_audience(s, name_or_id))


def create_audience(settings: Settings, actor: Actor, name: str, description: str = "",
                    sends_on: str = SendsOn.EVERY.value) -> dict:
    given = _checked(AudienceInput, {"name": name, "description": description, "sends_on": sends_on})
    rule = parse_choice(SendsOn, given.sends_on, "sends_on")
    with acting(settings, actor, "manage stakeholders", f"stakeholders:{given.name}"[:60]) as s:
        if s.scalar(select(StakeholderAudience.id).where(StakeholderAudience.name == given.name)):
            raise NameTaken(f"a stakeholder audience named {given.name!r} exists already")
        if len(s.scalars(select(StakeholderAudience.id)).all()) >= MOST_AUDIENCES:
            raise InvalidInput(f"at most {MOST_AUDIENCES} stakeholder audiences")
        audience = StakeholderAudience(name=given.name, description=given.description, sends_on=rule.value)
        s.add(audience)
        s.flush()
        log_action(s, actor, "create stakeholder audience", f"stakeholders:{audience.id}", {"name": audience.name})
        return audience_view(audience)


def remove_audience(settings: Settings, actor: Actor, name_or_id: str | int) -> dict:
    with acting(settings, actor, "manage stakeholders", f"stakeholders:{name_or_id}"[:60]) as s:
        audience = _audience(s, name_or_id)
        view = audience_view(audience)
        s.delete(audience)
        log_action(s, actor, "remove stakeholder audience", f"stakeholders:{view['id']}", {"name": view["name"]})
        return view


def add_member(settings: Settings, actor: Actor, audience: str | int, name: str, email: str | None = None,
               phone: str | None = None) -> dict:
    given = _checked(MemberInput, {"name": name, "email": email or None, "phone": phone or None})
    if not given.email and not given.phone:
        raise InvalidInput(f"{given.name}: give an email address, a phone number, or both")
    address = normalise_email(given.email) if given.email else None
    number = normalise_phone(given.phone) if given.phone else None
    with acting(settings, actor, "manage stakeholders", f"stakeholders:{audience}"[:60]) as s:
        found = _audience(s, audience)
        if len(found.members) >= MOST_MEMBERS:
            raise InvalidInput(f"{found.name}: at most {MOST_MEMBERS} members")
        if any(m.name == given.name for m in found.members):
            raise NameTaken(f"{found.name} has a member named {given.name!r} already")
        member = StakeholderMember(audience=found, name=given.name, email=address, phone=number)
        s.add(member)
        try:
            s.flush()
        except IntegrityError:
            raise NameTaken(f"{found.name} has a member named {given.name!r} already") from None
        log_action(s, actor, "add stakeholder", f"stakeholders:{found.id}",
                   {"name": member.name, "email": address, "phone": number})
        s.refresh(found)
        return audience_view(found)


def remove_member(settings: Settings, actor: Actor, audience: str | int, name: str) -> dict:
    with acting(settings, actor, "manage stakeholders", f"stakeholders:{audience}"[:60]) as s:
        found = _audience(s, audience)
        member = next((m for m in found.members if m.name == name.strip()), None)
        if member is None:
            raise NotFound(f"{found.name} has no member named {name.strip()!r}")
        s.delete(member)
        s.flush()
        log_action(s, actor, "remove stakeholder", f"stakeholders:{found.id}", {"name": member.name})
        s.refresh(found)
        return audience_view(found)


def _audience(s, name_or_id: str | int) -> StakeholderAudience:
    key = str(name_or_id).strip()
    query = select(StakeholderAudience).where(
        StakeholderAudience.id == int(key) if key.isascii() and key.isdigit() and len(key) < 10
        else StakeholderAudience.name == key)
    audience = s.scalar(query)
    if audience is None:
        raise NotFound(f"no stakeholder audience {key!r}: see `broadcaster stakeholders list`")
    return audience
