"""The public subscribe form, its double opt-in and the one-time manage link (on the public app).

Every page is a plain server-rendered form: no JavaScript, works on a phone. The form offers one
field per channel that takes sign-ups (`channels.signup_channels()`), each worded in
templates/<channel>/signup/; nothing here names a channel, and what the pages say when they refuse
is in templates/_web/subscribe/messages.txt. Bad input is one line on the page (status 400), too
many sign-ups 429, too many being checked at once 503, an invalid or spent link a page saying so
(403), never a trace. The pages carry tokens, links and once a signing secret: they are never
cached, never framed and send no referrer.

A sign-up may wait on someone else's server (a webhook URL's DNS and its answer, an email or SMS
provider), so sign-ups never run on the thread pool the status page and banner use: each channel
has `signup_concurrency` threads of its own, and a sign-up waits for one in the event loop (no
thread held) for `signup_queue_seconds` at most.
"""

from functools import partial

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ... import channels
from ...audience import signup
from ...config import Settings
from ...domain.errors import InvalidInput, LimitExceeded, NotAllowed
from ...incidents.components import list_components
from ...render.environment import environment
from ...usecase import MAX_ID
from ..common import PRIVATE, settings_of

router = APIRouter()


def _page(settings: Settings, names: str | list[str], status: int = 200, **context) -> HTMLResponse:
    """The first of `names` that exists (a channel's own page, then the generic one)."""
    template = environment(settings.templates_dir).select_template(
        [f"_web/subscribe/{n}.html" if "/" not in n else n for n in ([names] if isinstance(names, str) else names)])
    defaults = {"error": None, "components": [], "chosen": [], "manage_url": None, "cancelled": False,
                "channels": [], "given": {}, "credentials": {}, "lang": settings.default_locale}
    return HTMLResponse(template.render(company_name=settings.company_name, **(defaults | context)),
                        status_code=status, headers=PRIVATE)


def _form(settings: Settings, status: int = 200, **context) -> HTMLResponse:
    offered = [{"name": ch.name, "field": ch.address} for ch in channels.signup_channels()]
    return _page(settings, "form", status, channels=offered, **context)


def _sent(settings: Settings, status: int = 200, **context) -> HTMLResponse:
    """The channel's "check your ..." page (it extends _web/subscribe/sent.html)."""
    return _page(settings, f"{context['channel']}/signup/sent.html", status, **context)


def _done(settings: Settings, **context) -> HTMLResponse:
    channel = context.get("channel")
    return _page(settings, [f"{channel}/signup/done.html", "done"] if channel else "done", **context)


def _component_names(settings: Settings) -> list[str]:
    return [c["name"] for c in list_components(settings)]


@router.get("/subscribe", include_in_schema=False)
async def form(request: Request, lang: str = "") -> HTMLResponse:
    """The form in the language of the link that led here (`?lang=es` from the Spanish status page):
    the sign-up is made in it, so the confirmation and every update after it are said in it."""
    settings = settings_of(request)
    return _form(settings, components=await run_in_threadpool(_component_names, settings),
                 lang=signup.signup_language(settings, lang))


@router.post("/subscribe", include_in_schema=False)
async def subscribe(request: Request) -> HTMLResponse:
    settings = settings_of(request)
    data = await request.form()
    offered = channels.signup_channels()
    typed = {ch.address: str(data.get(ch.address) or "").strip() for ch in offered}
    given = [(ch.name, typed[ch.address]) for ch in offered if typed[ch.address]]
    names = await run_in_threadpool(_component_names, settings)
    chosen = [str(c) for c in data.getlist("component") if str(c) in names]
    lang = signup.signup_language(settings, str(data.get("lang") or ""))
    again = {"components": names, "chosen": chosen, "given": typed, "lang": lang}
    if len(given) != 1:
        return _form(settings, 400, error=signup.message(settings, "one_address"), **again)
    client = request.client.host if request.client else ""
    try:
        sent = await _signup_thread(request, given[0][0], partial(signup.request_signup, settings, *given[0], chosen,
                                                                  client=client, language=lang))
    except _Busy:
        return _form(settings, 503, error=signup.message(settings, "busy"), **again)
    except LimitExceeded as exc:
        return _form(settings, 429, error=str(exc), **again)
    except (InvalidInput, NotAllowed) as exc:
        return _form(settings, 400, error=str(exc), **again)
    return _sent(settings, by=sent["by"], token=sent["request"], channel=sent["channel"], address=sent["address"],
                 **sent["page"])


@router.get("/subscribe/confirm", include_in_schema=False)
async def confirm_page(request: Request, token: str = "") -> HTMLResponse:
    """Shows a button only: a link scanner that GETs this page subscribes nobody."""
    return _page(settings_of(request), "confirm", token=token)


@router.post("/subscribe/confirm", include_in_schema=False)
async def confirm(request: Request) -> HTMLResponse:
    settings = settings_of(request)
    token = str((await request.form()).get("token") or "")
    try:
        done = await run_in_threadpool(signup.confirm_link, settings, token)
    except NotAllowed as exc:
        return _page(settings, "invalid", 403, error=str(exc))
    return _done(settings, **done)


@router.post("/subscribe/verify", include_in_schema=False)
async def verify(request: Request) -> HTMLResponse:
    settings = settings_of(request)
    data = await request.form()
    token, code = str(data.get("token") or ""), str(data.get("code") or "")
    try:
        done = await run_in_threadpool(signup.confirm_code, settings, token, code)
    except InvalidInput as exc:
        pending = await run_in_threadpool(signup.pending_signup, settings, token)
        if pending is None:  # confirmed or gone meanwhile
            return _page(settings, "invalid", 403, error=str(exc))
        return _sent(settings, 400, by="code", token=token, error=str(exc), **pending)
    except NotAllowed as exc:
        return _page(settings, "invalid", 403, error=str(exc))
    return _done(settings, **done)


class _Busy(Exception):
    pass


async def _signup_thread(request: Request, channel: str, work):
    """Run one sign-up on its channel's own threads, waiting (in the event loop) for a free one."""
    settings, state = settings_of(request), request.app.state
    if getattr(state, "signup_threads", None) is None:  # made on first use: in the app's event loop
        state.signup_threads = {}
        state.signup_pool = anyio.CapacityLimiter(1000)  # the threads themselves; each channel bounds its own
    limiter = state.signup_threads.setdefault(channel, anyio.CapacityLimiter(settings.signup_concurrency))
    with anyio.move_on_after(settings.signup_queue_seconds) as waiting:
        await limiter.acquire()
    if waiting.cancelled_caught:
        raise _Busy()
    try:
        # The channel's token is held: the thread comes from anyio's pool, not the pages' share of it.
        return await anyio.to_thread.run_sync(work, limiter=state.signup_pool)
    finally:
        limiter.release()


def _subscriber_id(value: str) -> int:
    """The manage link's `s`; ValueError unless it is an id any backend could hold."""
    number = int(value or "0")
    if not 1 <= number <= MAX_ID:
        raise ValueError(value)
    return number


@router.get("/subscribe/manage", include_in_schema=False)
async def manage_page(request: Request, s: str = "", t: str = "") -> HTMLResponse:
    settings = settings_of(request)
    try:
        current = await run_in_threadpool(signup.show_subscription, settings, _subscriber_id(s), t)
    except (NotAllowed, ValueError) as exc:
        return _page(settings, "invalid", 403,
                     error=str(exc) if isinstance(exc, NotAllowed) else signup.message(settings, "bad_link"))
    return _page(settings, "manage", subscriber=s, token=t, chosen=current["components"],
                 components=await run_in_threadpool(_component_names, settings))


@router.post("/subscribe/manage", include_in_schema=False)
async def manage(request: Request) -> HTMLResponse:
    settings = settings_of(request)
    data = await request.form()
    try:
        subscriber = _subscriber_id(str(data.get("s") or "0"))
        done = await run_in_threadpool(signup.manage, settings, subscriber, str(data.get("t") or ""),
                                       data.get("action") == "cancel", [str(c) for c in data.getlist("component")])
    except (NotAllowed, ValueError) as exc:
        return _page(settings, "invalid", 403,
                     error=str(exc) if isinstance(exc, NotAllowed) else signup.message(settings, "bad_link"))
    return _done(settings, **done)
