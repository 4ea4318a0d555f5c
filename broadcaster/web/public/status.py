"""The public surfaces over HTTP: banner.json and banner.js, the status page, the feeds and the
Statuspage v2 JSON. Every route serves bytes from the in-process cache (`SurfaceCache`), so most
requests never touch the database, and a static export of the same documents says the same.

The banner, the status page and the feeds are in the reader's language: `?lang=es` (a link, the
page's language menu, banner.js passing the browser's language) or else the Accept-Language
header, among the installation's languages; anything else gets the default language."""


from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...config import Settings, get_settings
from ...render.languages import accept_language, negotiate
from ...surfaces import ROUTES, SurfaceCache
from ...surfaces.documents import LOCALIZED, localized_path

router = APIRouter()


def surface_cache(request: Request) -> SurfaceCache:
    """One cache per app; made on first use, so including the router needs no set-up step."""
    state = request.app.state
    cache = getattr(state, "surface_cache", None)
    if cache is None:
        cache = state.surface_cache = SurfaceCache(getattr(state, "settings", None) or get_settings())
    return cache


async def _serve(request: Request) -> Response:
    cache = surface_cache(request)
    # Fresh cached bytes are served straight from the event loop; a refresh may query the
    # database, so it runs in a thread.
    documents = cache.fresh() or await run_in_threadpool(cache.documents)
    path = ROUTES[request.url.path]
    headers = {
        # Anyone's widget or aggregator may read these, from any origin; they are public anyway.
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": cache_control(cache.settings),
    }
    if path in LOCALIZED:
        path = localized_path(path, reader_language(request, cache.settings), cache.settings)
        headers["Vary"] = "Accept-Language"  # a shared cache keeps one copy per language asked for
    document = documents[path]
    headers["ETag"] = document.etag
    if not_modified(request.headers.get("if-none-match"), document.etag):
        return Response(status_code=304, headers=headers)  # banner.js's poll, a CDN revalidating
    return Response(document.body, media_type=document.media_type, headers=headers)


def cache_control(settings: Settings) -> str:
    """Short-lived for browsers and CDNs (the words change when a statement is published), and a CDN
    may keep serving the last words while it revalidates, and while the origin fails."""
    return (f"public, max-age={settings.public_cache_seconds}, "
            f"stale-while-revalidate={settings.public_stale_while_revalidate_seconds}, "
            f"stale-if-error={settings.public_stale_if_error_seconds}")


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: `*`, or any listed tag equal to ours by the weak comparison."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match[:2000].split(",")]
    return "*" in tags or etag in tags


def reader_language(request: Request, settings: Settings) -> str:
    """The installation's language this reader asked for: `?lang=`, then Accept-Language, else the default."""
    wanted = [request.query_params.get("lang", "")[:35]] + accept_language(request.headers.get("accept-language"))
    return negotiate(wanted, settings.all_locales, settings.default_locale)


for _path in ROUTES:
    router.add_api_route(_path, _serve, methods=["GET", "HEAD"], include_in_schema=False)


@router.get("/status/", include_in_schema=False)
def status_slash() -> RedirectResponse:
    return RedirectResponse("/status", status_code=308)










