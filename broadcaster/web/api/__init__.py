"""The REST API under /api/v1/: one module per resource, each with its `routes`; `common` holds who is
calling, what they may do, and errors as RFC 9457 problem details.

Every route declares the action it performs (`allowed("publish")`); `auth.authorize` checks it
against the one permission table (`domain.approval.PERMISSIONS`) and audits a refusal. The
routes call the same use cases as the CLI, so the API says the same words when it refuses.
"""

from fastapi import APIRouter, Depends, FastAPI

from ..common import copy_routes
from . import (
    admin,
    alerts,
    contract,
    deliveries,
    event_endpoints,
    holding,
    people_around,
    postmortems,
    social,
    statements,
    templates,
)
from .common import PREFIX, install_problem_handlers, refuse_nul

__all__ = ["install_problem_handlers", "router", "describe"]

RESOURCES = (statements, templates, deliveries, holding, alerts, admin, social, postmortems, people_around,
             event_endpoints)


def router() -> APIRouter:
    """Every resource's routes under /api/v1, with the answers every route may give."""
    combined = APIRouter(prefix=PREFIX, dependencies=[Depends(refuse_nul)])
    for module in RESOURCES:
        for routes in module.routes:
            copy_routes(combined, routes)
    return combined


# The POSTs that create or send something: each accepts an `Idempotency-Key`.
IDEMPOTENT = {route.__name__ for route in (
    statements.open_incident, statements.draft, statements.submit, statements.approve, statements.reject,
    statements.withdraw, statements.publish_statement, deliveries.retry, holding.keep_holding,
    holding.activate_holding, holding.holding_links_send, admin.add_subscriber, admin.add_user, admin.create_token,
    social.reply, social.propose, social.approve_text, event_endpoints.add_event_endpoint)}
# The lists answering a page at a time, with `Link: <...>; rel="next"`.
PAGED = {route.__name__ for route in (
    statements.list_incidents, statements.list_statements, deliveries.send_log, holding.list_holding,
    holding.holding_links_list, admin.list_subscribers, admin.list_users, admin.list_tokens, admin.read_audit_trail,
    social.inbox, social.proposals, social.replies, social.variants, alerts.list_sources, alerts.list_rules,
    alerts.list_groups, templates.list_templates, event_endpoints.list_event_endpoints)}


def describe(app: FastAPI) -> None:
    """The OpenAPI document as the server behaves (`contract`)."""
    contract.install(app, IDEMPOTENT, PAGED, app.state.settings.locales)
