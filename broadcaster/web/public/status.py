"""The public surfaces over HTTP: banner.json and banner.js, the status page, the feeds and the
Statuspage v2 JSON. Every route serves bytes from the in-process cache (`SurfaceCache`), so most
requests never touch the database, and a static export of the same documents says the same."""


from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...config import get_settings
from ...surfaces import ROUTES, SurfaceCache

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
    document = documents[ROUTES[request.url.path]]
    return Response(document.body, media_type=document.media_type, headers={
        # Anyone's widget or aggregator may read these, from any origin; they are public anyway.
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": f"public, max-age={cache.settings.public_cache_seconds}",
    })


for _path in ROUTES:
    router.add_api_route(_path, _serve, methods=["GET", "HEAD"], include_in_schema=False)


@router.get("/status/", include_in_schema=False)
def status_slash() -> RedirectResponse:
    return RedirectResponse("/status", status_code=308)










