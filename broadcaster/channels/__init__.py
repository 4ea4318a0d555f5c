"""The channel registry: every module in this package that declares ``CHANNEL`` is a channel.

Adding a channel is one module here (its ``Channel`` declaration and transport), one template
folder in ``templates/`` and, if it needs a new subscriber address, a migration. Everything
else (rendering, limits, publishing, queues, rates, opt-outs) asks this registry.

``transport_for`` picks each channel's provider from the settings: the real one when
configured, else the ``log`` provider (status ``simulated``, never ``sent``), so the whole
flow runs on a laptop with no accounts.
"""

import importlib
import pkgutil
import threading
from functools import cache

from ..config import Settings
from ..render.limits import LimitCheck
from .base import (
    Channel,
    Confirmation,
    Kind,
    Reconcilable,
    SendContext,
    SendResult,
    SignUp,
    Target,
    Transport,
    TransportError,
)
from .log import LogTransport

__all__ = ["Channel", "Confirmation", "Kind", "Reconcilable", "SendContext", "SendResult", "SignUp", "Target",
           "Transport", "TransportError", "all_channels", "channel", "check_limits", "is_simulated", "names",
           "rate_for", "recipient_channels", "rendered_names", "signup_channels", "transport_for", "warm_up",
           "x_budget"]

@cache
def _registry() -> dict[str, Channel]:
    # Found on first use, not at import: the provider SDKs take half a second to import,
    # and `broadcaster --help` should not pay for them. Modules without CHANNEL are helpers.
    found: dict[str, Channel] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        declared = getattr(importlib.import_module(f"{__name__}.{module_info.name}"), "CHANNEL", None)
        for ch in declared if isinstance(declared, tuple) else (declared,) if declared else ():
            if ch.name in found:
                raise RuntimeError(f"channel {ch.name!r} is declared twice")
            found[ch.name] = ch
    return found


def all_channels() -> list[Channel]:
    return list(_registry().values())


def names() -> list[str]:
    return list(_registry())


def channel(name: str) -> Channel:
    try:
        return _registry()[name]
    except KeyError:
        raise KeyError(f"no channel {name!r}; registered: {', '.join(_registry())}") from None


def recipient_channels() -> list[Channel]:
    return [ch for ch in _registry().values() if ch.kind is Kind.RECIPIENT]


def rendered_names() -> list[str]:
    """The channels with renditions of their own (a template folder each), rendered at submit."""
    return [ch.name for ch in _registry().values() if ch.renditions_of is None]


def signup_channels() -> list[Channel]:
    """The channels the public subscribe form offers, in registry order."""
    return [ch for ch in _registry().values() if ch.signup is not None]


def x_budget(settings: Settings) -> dict:
    """X's posting window for our account, as the social inbox shows it: how many replies may go now
    and when the window resets (statements keep their reserve). Spends nothing."""
    from . import _xbudget

    return _xbudget.snapshot(settings, settings.x_access_token or "")


def check_limits(renditions: dict[str, dict[str, str]], settings: Settings) -> list[LimitCheck]:
    """Every limit of every rendered channel, measured on the rendered text."""
    checks: list[LimitCheck] = []
    for name, fields in renditions.items():
        limits = _registry()[name].limits if name in _registry() else None
        if limits:
            checks.extend(limits(fields, settings))
    return checks


# SDK clients hold HTTP sessions: one per thread, reused across sends (send threads live as
# long as their process). An entry keeps its settings alive, so their id cannot be reused by
# other settings while the entry exists; the cap bounds what a test run's many settings leave.
_local = threading.local()
_CACHED_PER_THREAD = 32


def transport_for(name: str, settings: Settings) -> Transport:
    cache_ = _local.__dict__.setdefault("transports", {})
    key = (name, id(settings))
    if key not in cache_:
        if len(cache_) >= _CACHED_PER_THREAD:
            cache_.clear()
        cache_[key] = (settings, _make(channel(name), settings))
    return cache_[key][1]


def warm_up(settings: Settings) -> None:
    """Build each channel's transport once and drop it: the SDKs import their modules lazily, and
    a worker's pool processes, forked after this, then start with them loaded."""
    for ch in all_channels():
        _make(ch, settings)


def rate_for(name: str, settings: Settings) -> str | None:
    """The provider rate a channel's sends are held to; None when simulated (nothing leaves) or when
    its provider has no rate (the built-in surfaces: the banner, the status page, the phone line)."""
    ch = channel(name)
    return ch.rate(settings) if _uses_provider(ch, settings) else None


def is_simulated(name: str, settings: Settings) -> bool:
    """Whether this channel's sends only go to the log (`simulated`): no provider set up, or the whole
    installation simulates. Not the same as no rate: a built-in surface has none and really sends."""
    return not _uses_provider(channel(name), settings)


def _uses_provider(ch: Channel, settings: Settings) -> bool:
    return ch.configured(settings) and not settings.simulate


def _make(ch: Channel, settings: Settings) -> Transport:
    if _uses_provider(ch, settings):
        return ch.transport(settings)
    return LogTransport(ch.name, batch_size=ch.batch_size(settings))
