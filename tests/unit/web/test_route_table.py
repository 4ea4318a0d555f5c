"""The apps' routers are joined flat (`web.common.copy_routes`), not included: each route must be the
route FastAPI's `include_router` makes of it, with the same path, methods, dependencies, schema flag,
status, response class and model, and the OpenAPI document the same; the document is made once per
process for the same routes and languages, and each app gets its own copy."""

from fastapi import APIRouter, Depends
from fastapi.routing import iter_route_contexts

from broadcaster.web import api
from broadcaster.web.api.common import PREFIX, refuse_nul
from broadcaster.web.app import _bare_app, create_app, routers
from broadcaster.web.public import ROUTERS, create_public_app, phone
from tests.conftest import make_settings

SAME = ("path", "methods", "name", "endpoint", "include_in_schema", "status_code", "response_class", "unique_id",
        "tags", "response_model", "responses", "summary", "description", "operation_id", "deprecated")


def _table(routes) -> list[tuple]:
    def value(context, name):
        found = getattr(context, name, None)
        return getattr(found, "value", found)  # a DefaultPlaceholder: what it stands for
    return [(*(value(context, name) for name in SAME),
             [depends.dependency for depends in getattr(context, "dependencies", None) or []])
            for context in iter_route_contexts(routes)]


def _included_api() -> APIRouter:
    combined = APIRouter(prefix=PREFIX, dependencies=[Depends(refuse_nul)])
    for module in api.RESOURCES:
        for routes in module.routes:
            combined.include_router(routes)
    return combined


def test_the_full_app_routes_as_its_routers_included_would():
    settings = make_settings("sqlite:///unused.db")
    app, included = create_app(settings), _bare_app()
    own = len(included.routes)  # the OpenAPI document and the docs pages: each app's own
    for router, how in routers():
        included.include_router(_included_api() if router.prefix == PREFIX else router, **how)
    flat = [route for route in app.routes[own:] if route.path not in ("/metrics", "/healthz")]
    assert len(_table(flat)) == len(_table(included.routes[own:])) > 150
    assert _table(flat) == _table(included.routes[own:])
    included.state.settings = settings
    api.describe(included)
    assert app.openapi() == included.openapi()


def test_the_public_app_routes_as_its_routers_included_would():
    app = create_public_app(make_settings("sqlite:///unused.db"))
    included = APIRouter()
    for router in [*ROUTERS, phone.public_router]:
        included.include_router(router)
    assert _table([route for route in app.routes if route.path != "/"])[-len(_table(included.routes)):] \
        == _table(included.routes)


def _languages_allowed(document: dict) -> list[list[str]]:
    return [choice["propertyNames"]["enum"] for schema in document["components"]["schemas"].values()
            for choice in schema.get("properties", {}).get("translations", {}).get("anyOf", [])
            if "propertyNames" in choice]


def test_every_app_gets_its_own_copy_of_the_document_made_for_its_languages():
    first, second = (create_app(make_settings("sqlite:///unused.db", locales=["es", "fr"])) for _ in range(2))
    document = first.openapi()
    assert second.openapi() == document and second.openapi() is not document
    document["paths"].clear()  # what one app's caller does to its document stays its own
    assert second.openapi()["paths"] and create_app(make_settings("sqlite:///unused.db", locales=["es", "fr"])
                                                    ).openapi()["paths"]
    assert _languages_allowed(second.openapi()) and all(
        languages == ["es", "fr"] for languages in _languages_allowed(second.openapi()))
    other = create_app(make_settings("sqlite:///unused.db", locales=["de"])).openapi()
    assert _languages_allowed(other) and all(languages == ["de"] for languages in _languages_allowed(other))
