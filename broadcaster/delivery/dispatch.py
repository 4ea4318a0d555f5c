"""Where the sending side meets the rest, named once.

- ``Dispatch``: hands committed delivery ids to whatever sends them: the broker (``enqueue``), this
  process (``chunk.send_now``), or a test's list. Every use case that makes deliveries takes one.
- The hooks run after a live surface has switched. A capability above delivery (the static export in
  ``broadcaster.surfaces``) registers its hook here when a process is assembled (the worker app,
  embedded ``serve``, the CLI commands that send in this process, the demo), never by being
  imported: a process that sends says what runs after a send.
"""

from collections.abc import Callable

from ..config import Settings

Dispatch = Callable[[Settings, list[int]], object]  # what it returns (a count, None) is the caller's own
SurfaceSwitchHook = Callable[[Settings], object]

_surface_switch_hooks: list[SurfaceSwitchHook] = []


def on_surface_switched(hook: SurfaceSwitchHook) -> None:
    """Run `hook(settings)` after every switch of a live surface in this process (once, however often
    it is registered)."""
    if hook not in _surface_switch_hooks:
        _surface_switch_hooks.append(hook)


def surface_switch_hooks() -> tuple[SurfaceSwitchHook, ...]:
    return tuple(_surface_switch_hooks)
