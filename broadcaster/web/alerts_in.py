"""Alerts in: `POST /webhooks/alerts/NAME`, one URL per alert source. The request is bounded
(BROADCASTER_ALERT_MAX_BODY_KB), proved by the source's own means (a bearer token, PagerDuty's signature,
a Standard Webhooks signature) before anything is read from it, then parsed and handed to
`alerts.service.receive`. A refused request changes nothing; its refusal is audited (throttled per client)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..alerts import service, sources
from ..alerts.enums import BEARER_KINDS, SourceKind
from ..delivery.receipts import remember_inbound
from ..domain.errors import InvalidInput, NotAllowed
from ..usecase import audit_unproven
from .common import settings_of

router = APIRouter()


async def bounded_body(request: Request, most: int) -> bytes | None:
    """The body, or None if it is larger than `most` bytes (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > most:
            return None
    return bytes(body)


@router.post("/webhooks/alerts/{name}")
async def alerts_in(request: Request, name: str) -> JSONResponse:
    settings = settings_of(request)
    body = await bounded_body(request, settings.alert_max_body_kb * 1024)
    if body is None:
        return JSONResponse({"detail": f"the request is larger than {settings.alert_max_body_kb} KiB "
                                       "(BROADCASTER_ALERT_MAX_BODY_KB); send fewer alerts at once"}, status_code=413)
    source = await run_in_threadpool(sources.source_named, settings, name)
    if source is None:
        await run_in_threadpool(audit_unproven, settings, "refused: alert", f"alert-source:{name[:50]}",
                                {"reason": "no such source"})
        return JSONResponse({"detail": f"no alert source named {name[:50]!r}"}, status_code=404)
    receiver = sources.RECEIVERS[source.kind]
    headers = {key.lower(): value for key, value in request.headers.items()}
    try:
        receiver.verify(source, headers, body)
    except NotAllowed as exc:
        await run_in_threadpool(audit_unproven, settings, "refused: alert", f"alert-source:{source.id}",
                                {"source": source.name, "reason": str(exc)})
        challenge = {"WWW-Authenticate": "Bearer"} if source.kind in BEARER_KINDS else None
        return JSONResponse({"detail": str(exc)}, status_code=401, headers=challenge)
    try:
        notification = receiver.parse(body)
    except InvalidInput as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    if source.kind == SourceKind.GENERIC:  # a replayed message (same webhook-id) acts once
        try:
            await run_in_threadpool(remember_inbound, settings, f"alert:{source.id}:{headers['webhook-id'][:40]}")
        except NotAllowed:
            return JSONResponse({"outcome": "already handled (same webhook-id)"})
    result = await run_in_threadpool(service.receive, settings, source.id, notification,
                                     request.app.state.dispatch)
    return JSONResponse(result)
