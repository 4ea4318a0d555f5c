"""The components customers see on the status page: name, description, group and order."""

from sqlalchemy import select

from ..config import Settings
from ..domain.approval import Actor
from ..domain.errors import InvalidInput
from ..store.models import Component
from ..usecase import acting, log_action, unit_of_work


def add_component(settings: Settings, actor: Actor, name: str, description: str = "", group: str | None = None,
                  order: int = 0) -> dict:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("component name: give 1 to 100 characters, e.g. 'Login'")
    with acting(settings, actor, "manage components", f"component:{name}") as s:
        if s.scalar(select(Component.id).where(Component.name == name)) is not None:
            raise InvalidInput(f"component {name!r} exists already; `broadcaster component list` shows them")
        component = Component(name=name, description=description.strip(), group_name=(group or "").strip() or None,
                              position=order)
        s.add(component)
        s.flush()
        log_action(s, actor, "add component", f"component:{component.id}",
                   {"name": name, "group": component.group_name, "order": order})
        return component_view(component)


def list_components(settings: Settings) -> list[dict]:
    with unit_of_work(settings) as s:
        return [component_view(c) for c in s.scalars(select(Component).order_by(*ORDER))]


ORDER = (Component.group_name.is_not(None), Component.group_name, Component.position, Component.name)


def component_view(component: Component) -> dict:
    return {"id": component.id, "name": component.name, "description": component.description,
            "group": component.group_name, "order": component.position}
