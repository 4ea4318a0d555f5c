"""The public subscribe form, its double opt-in and the one-time manage link (on the public app).

Every page is a plain server-rendered form: no JavaScript, works on a phone. Bad input is one
line on the page (status 400), an invalid or spent link a page saying so (403), never a trace.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from .. import signup
from ..components import list_components
from ..config import Settings, get_settings
from ..domain.errors import InvalidInput, LimitExceeded, NotAllowed
from ..render.environment import environment

router = APIRouter()


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or get_settings()


def _page(settings: Settings, name: str, status: int = 200, **context) -> HTMLResponse:
    template = environment(settings.templates_dir).get_template(f"_web/subscribe/{name}.html")
    defaults = {"error": None, "components": [], "chosen": [], "manage_url": None, "cancelled": False}
    return HTMLResponse(template.render(company_name=settings.company_name, **(defaults | context)),
                        status_code=status)


def _component_names(settings: Settings) -> list[str]:
    return [c["name"] for c in list_components(settings)]


@router.get("/subscribe", include_in_schema=False)
async def form(request: Request) -> HTMLResponse:
    settings = _settings(request)
    return _page(settings, "form", components=await run_in_threadpool(_component_names, settings))


@router.post("/subscribe", include_in_schema=False)
async def subscribe(request: Request) -> HTMLResponse:
    settings = _settings(request)
    data = await request.form()
    given = [(kind, str(data.get(kind) or "").strip()) for kind in ("email", "phone")]
    given = [(kind, value) for kind, value in given if value]
    names = await run_in_threadpool(_component_names, settings)
    if len(given) != 1:
        return _page(settings, "form", 400, components=names, error="Give an email address or a mobile number.")
    chosen = [str(c) for c in data.getlist("component") if str(c) in names]
    try:
        sent = await run_in_threadpool(signup.request_signup, settings, *given[0], chosen)
    except (InvalidInput, LimitExceeded) as exc:
        return _page(settings, "form", 429 if isinstance(exc, LimitExceeded) else 400, components=names,
                     error=str(exc))
    return _page(settings, "sent", by=sent["by"], token=sent["request"])


@router.get("/subscribe/confirm", include_in_schema=False)
async def confirm_page(request: Request, token: str = "") -> HTMLResponse:
    """Shows a button only: a link scanner that GETs this page subscribes nobody."""
    return _page(_settings(request), "confirm", token=token)


@router.post("/subscribe/confirm", include_in_schema=False)
async def confirm(request: Request) -> HTMLResponse:
    settings = _settings(request)
    token = str((await request.form()).get("token") or "")
    try:
        done = await run_in_threadpool(signup.confirm_link, settings, token)
    except NotAllowed as exc:
        return _page(settings, "invalid", 403, error=str(exc))
    return _page(settings, "done", cancelled=False, **done)


@router.post("/subscribe/verify", include_in_schema=False)
async def verify(request: Request) -> HTMLResponse:
    settings = _settings(request)
    data = await request.form()
    token, code = str(data.get("token") or ""), str(data.get("code") or "")
    try:
        done = await run_in_threadpool(signup.confirm_code, settings, token, code)
    except InvalidInput as exc:
        return _page(settings, "sent", 400, by="code", token=token, error=str(exc))
    except NotAllowed as exc:
        return _page(settings, "invalid", 403, error=str(exc))
    return _page(settings, "done", cancelled=False, **done)


@router.get("/subscribe/manage", include_in_schema=False)
async def manage_page(request: Request, s: int = 0, t: str = "") -> HTMLResponse:
    settings = _settings(request)
    try:
        current = await run_in_threadpool(signup.show_subscription, settings, s, t)
    except NotAllowed as exc:
        return _page(settings, "invalid", 403, error=str(exc))
    return _page(settings, "manage", subscriber=s, token=t, chosen=current["components"],
                 components=await run_in_threadpool(_component_names, settings))


@router.post("/subscribe/manage", include_in_schema=False)
async def manage(request: Request) -> HTMLResponse:
    settings = _settings(request)
    data = await request.form()
    try:
        subscriber = int(str(data.get("s") or "0"))
        done = await run_in_threadpool(signup.manage, settings, subscriber, str(data.get("t") or ""),
                                       data.get("action") == "cancel", [str(c) for c in data.getlist("component")])
    except (NotAllowed, ValueError) as exc:
        return _page(settings, "invalid", 403, error=str(exc) if isinstance(exc, NotAllowed) else "Bad link.")
    return _page(settings, "done", **done)
