"""The REST API under /api/v1/: one module per resource, each with its `routes`; `common` holds who is
calling, what they may do, and errors as RFC 9457 problem details.

Every route declares the action it performs (`allowed("publish")`); `auth.authorize` checks it
against the one permission table (`domain.approval.PERMISSIONS`) and audits a refusal. The
routes call the same use cases as the CLI, so the API says the same words when it refuses.
"""

from fastapi import APIRouter, Depends

from . import admin, alerts, deliveries, holding, social, statements, templates
from .common import PREFIX, install_problem_handlers, refuse_nul

__all__ = ["install_problem_handlers", "router"]

RESOURCES = (statements, templates, deliveries, holding, alerts, admin, social)


def router() -> APIRouter:
    """Every resource's routes under /api/v1, with the answers every route may give."""
    combined = APIRouter(prefix=PREFIX, dependencies=[Depends(refuse_nul)], responses={
        401: {"description": "No valid token or session"}, 403: {"description": "The role does not allow it"},
        422: {"description": "Invalid input, or a channel limit broken"}})
    for module in RESOURCES:
        for routes in module.routes:
            combined.include_router(routes)
    return combined
