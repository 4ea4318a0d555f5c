"""The public surfaces over HTTP: banner.json and banner.js, the status page, the feeds and the
Statuspage v2 JSON. Every route serves bytes from the in-process cache (`SurfaceCache`), so most
requests never touch the database, and a static export of the same documents says the same.

The banner, the status page and the feeds are in the reader's language: `?lang=es` (a link, the
page's language menu, banner.js passing the browser's language) or else the Accept-Language
header, among the installation's languages; anything else gets the default language."""


from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...config import Settings, get_settings
from ...render.languages import accept_language, negotiate
from ...surfaces import ROUTES, SurfaceCache
from ...surfaces.documents import CAP_ALERTS, LOCALIZED, localized_path

router = APIRouter()
# Every public document's: a browser takes each as the type it is served as (banner.json is never run as
# a script, a feed never sniffed into HTML), and a link out of one sends no Referer. No frame-ancestors:
# the status page may be framed (a help centre's), and it has nothing to click that acts (its links are
# the feeds, its languages and the subscribe form, which refuses to be framed); banner.js and the JSON
# are fetched cross-origin by design (CORS above). A static host adds the same: docs/guides/surfaces.md.
PUBLIC_DOCUMENT_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def surface_cache(request: Request) -> SurfaceCache:
    """One cache per app; made on first use, so including the router needs no set-up step."""
    state = request.app.state
    cache = getattr(state, "surface_cache", None)
    if cache is None:
        cache = state.surface_cache = SurfaceCache(getattr(state, "settings", None) or get_settings())
    return cache


async def _serve(request: Request) -> Response:
    cache = surface_cache(request)
    status, headers, body, media_type = await answer(cache, request.url.path, request.query_params.get("lang", ""),
                                                     request.headers.get("accept-language"),
                                                     request.headers.get("if-none-match"))
    return Response(body, status_code=status, media_type=media_type, headers=headers)


async def answer(cache: SurfaceCache, url_path: str, lang: str, accept: str | None,
                 if_none_match: str | None) -> tuple[int, dict[str, str], bytes, str | None]:
    """(status, headers, body, media type) of a public document: 200, or 304 when `if_none_match` names it."""
    # Fresh cached bytes are served straight from the event loop; a refresh may query the
    # database, so it runs in a thread.
    documents = cache.fresh() or await run_in_threadpool(cache.documents)
    path = ROUTES[url_path]
    headers = {
        # Anyone's widget or aggregator may read these, from any origin; they are public anyway.
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": cache_control(cache.settings),
        **PUBLIC_DOCUMENT_HEADERS,
    }
    if path in LOCALIZED:
        path = localized_path(path, reader_language(cache.settings, lang, accept), cache.settings)
        headers["Vary"] = "Accept-Language"  # a shared cache keeps one copy per language asked for
    document = documents[path]
    headers["ETag"] = document.etag
    if not_modified(if_none_match, document.etag):
        return 304, headers, b"", None  # banner.js's poll, a CDN revalidating
    return 200, headers, document.body, document.media_type


class ServeDocuments:
    """ASGI middleware for the public server: a GET or HEAD of a public document is answered from the
    cache before routing (the same answer as the routes below, at a fraction of the cost: the spike's
    requests are nearly all these); everything else goes on to the app."""

    def __init__(self, app, cache: SurfaceCache):
        self.app, self.cache = app, cache

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or scope["path"] not in ROUTES:
            return await self.app(scope, receive, send)
        raw = dict(scope["headers"])
        query = parse_qs(scope["query_string"].decode("latin-1")[:2000])
        status, headers, body, media_type = await answer(
            self.cache, scope["path"], (query.get("lang") or [""])[0], _header(raw, b"accept-language"),
            _header(raw, b"if-none-match"))
        response = Response(body if scope["method"] == "GET" else b"", status_code=status, media_type=media_type,
                            headers=headers)
        if scope["method"] == "HEAD":
            response.headers["content-length"] = str(len(body))
        await response(scope, receive, send)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None


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


def reader_language(settings: Settings, lang: str, accept: str | None) -> str:
    """The installation's language this reader asked for: `?lang=`, then Accept-Language, else the default."""
    wanted = [lang[:35]] + accept_language(accept)
    return negotiate(wanted, settings.all_locales, settings.default_locale)


for _path in ROUTES:
    router.add_api_route(_path, _serve, methods=["GET", "HEAD"], include_in_schema=False)


@router.api_route("/cap/{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def cap_alert(request: Request, name: str) -> Response:
    """One version's CAP 1.2 alert (`/cap/incident-12-v3.xml`), the bytes the static export writes."""
    cache = surface_cache(request)
    documents = cache.fresh() or await run_in_threadpool(cache.documents)
    document = documents.get(f"{CAP_ALERTS}{name[:100]}")
    if document is None:
        raise HTTPException(status_code=404)
    return Response(document.body, media_type=document.media_type, headers={
        "Access-Control-Allow-Origin": "*", "Cache-Control": f"public, max-age={cache.settings.public_cache_seconds}",
        **PUBLIC_DOCUMENT_HEADERS})


@router.get("/status/", include_in_schema=False)
def status_slash() -> RedirectResponse:
    return RedirectResponse("/status", status_code=308)










