"""The OpenAPI document as the server behaves: every status an operation can answer, each with the
problem-details schema; the conventions' headers; the links from one step of the statement's life to
the next (open → draft → submit → approve → publish → the send log), which a client (and
Schemathesis's stateful phase) follows; and every string parameter's character rule.

`install(app)` replaces FastAPI's `app.openapi` with a function building this document once."""

import json

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from ...domain.field_limits import LINE_PATTERN

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What is wrong and where, in the words the CLI uses"},
        "field": {"type": ["string", "null"], "description": "The field at fault, when one is"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "limits": {"type": "array", "items": {"type": "string"}},
        "request_id": {"type": "string", "description": "The request's id, as in `X-Request-ID` and the logs"},
    },
}
# Every status any operation may answer, and when.
WHY = {
    400: "The request cannot be acted on as it stands",
    401: "No valid token or session",
    403: "The role does not allow it, or the rule forbids it (four eyes, the last admin)",
    404: "What the path or a parameter names does not exist",
    409: "The state does not allow it (an illegal transition, a newer version live), or the `Idempotency-Key` "
         "was used with another request, or by one still running",
    413: "The body is larger than BROADCASTER_MAX_BODY_BYTES",
    422: "Invalid input (each field's rule is in its schema), or a channel limit broken",
    429: "Over the token's rate (see `Retry-After`), or too many attempts at a secret",
    502: "A provider the operation needs (X, Twilio, SendGrid) did not answer or refused",
}
REQUEST_ID = {"description": "The request's id: the caller's `X-Request-ID`, or a new one",
              "schema": {"type": "string"}}
RATE_HEADERS = {
    "X-Request-ID": REQUEST_ID,
    "RateLimit": {"description": "IETF draft: this token's quota left now (`\"default\";r=..;t=..`)",
                  "schema": {"type": "string"}},
    "RateLimit-Policy": {"description": "IETF draft: the quota and its window (`\"default\";q=..;w=..`)",
                         "schema": {"type": "string"}},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
LINK = {"Link": {"description": "RFC 8288: `<...>; rel=\"next\"` to the next page, when there is one",
                 "schema": {"type": "string"}}}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any unique string (a UUID): a retry with the same key and the same body gets the first "
                   "answer again without acting again (kept at least 24 hours); the same key with another "
                   "request is refused (409). `Idempotent-Replayed: true` marks a replayed answer.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}
# The statement's life, as links a client follows: (from operation, status, name, to operation, parameters, body).
LINKS = [
    ("open_incident", "201", "DraftStatement", "draft", {"incident_id": "$response.body#/id"}, None),
    ("open_incident", "201", "GetIncident", "get_incident", {"incident_id": "$response.body#/id"}, None),
    ("draft", "201", "SubmitStatement", "submit", {"statement_id": "$response.body#/id"}, None),
    ("draft", "201", "GetStatement", "get_statement", {"statement_id": "$response.body#/id"}, None),
    ("submit", "200", "ApproveStatement", "approve", {"statement_id": "$response.body#/id"},
     {"content_hash": "$response.body#/content_hash"}),
    ("approve", "200", "PublishStatement", "publish_statement", {"statement_id": "$response.body#/id"}, None),
    ("publish_statement", "202", "ReadSendLog", "send_log", {"statement_id": "$response.body#/id"}, None),
    ("publish_statement", "202", "FanOutProgress", "fan_out_progress", {"statement_id": "$response.body#/id"}, None),
    # Alerts in: a source's credential rotated, a rule read and changed, a template used to start a statement.
    ("add_source", "201", "RotateSource", "rotate_source", {"name": "$response.body#/name"}, None),
    ("add_source", "201", "RemoveSource", "remove_source", {"name": "$response.body#/name"}, None),
    ("add_rule", "201", "GetRule", "get_rule", {"rule_id": "$response.body#/id"}, None),
    ("add_rule", "201", "ChangeRule", "change_rule", {"rule_id": "$response.body#/id"}, None),
    ("add_rule", "201", "RemoveRule", "remove_rule", {"rule_id": "$response.body#/id"}, None),
    ("add_template", "201", "GetTemplate", "get_template", {"template_id": "$response.body#/id"}, None),
    ("add_template", "201", "ChangeTemplate", "change_template", {"template_id": "$response.body#/id"}, None),
    ("add_template", "201", "StartStatement", "start_statement", {"template_id": "$response.body#/id"}, None),
    ("add_template", "201", "RemoveTemplate", "remove_template", {"template_id": "$response.body#/id"}, None),
    ("start_statement", "201", "SubmitStartedStatement", "submit", {"statement_id": "$response.body#/id"}, None),
]


def operation_id(route: APIRoute) -> str:
    """The route's function name: `open_incident`, `publish_statement` (what a generated client calls)."""
    return route.name


def install(app: FastAPI, idempotent: set[str], paged: set[str], languages: list[str]) -> None:
    """`idempotent`: the operation ids that accept `Idempotency-Key`; `paged`: those answering a `Link`."""
    def openapi() -> dict:
        if app.openapi_schema is None:
            # The documented routes are the ones `create_app` shares by every app of the process (they
            # live as long as it, so their ids name them): an app with the same routes and languages
            # gets a copy of the document made once, 200-300 ms of CPU, instead of making it again. A
            # copy (14 ms), so that what one app's caller does to its document stays its own.
            documented = tuple(id(route) for route in app.routes if getattr(route, "include_in_schema", False))
            key = (app.title, app.version, app.description, documented, frozenset(idempotent), frozenset(paged),
                   tuple(languages))
            if key not in _DOCUMENTS:
                document = get_openapi(title=app.title, version=app.version, description=app.description,
                                       routes=app.routes)
                _DOCUMENTS[key] = json.dumps(described(document, idempotent, paged, languages))
            app.openapi_schema = json.loads(_DOCUMENTS[key])
        return app.openapi_schema

    app.openapi = openapi


_DOCUMENTS: dict[tuple, str] = {}  # the OpenAPI document as JSON, by what it is made of (`install`)


def described(document: dict, idempotent: set[str], paged: set[str], languages: list[str]) -> dict:
    """`languages`: the installation's other languages, the only keys a statement's translations take."""
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    operations = {}
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            operations[operation["operationId"]] = operation
            responses = operation.setdefault("responses", {})
            for status in statuses(path, method, operation):
                responses[str(status)] = {"description": WHY[status], "content": problem,
                                          "headers": {"X-Request-ID": REQUEST_ID,
                                                      **(RETRY_AFTER if status == 429 else {})}}
            for status, response in responses.items():
                if status.startswith("2"):
                    response["headers"] = {**RATE_HEADERS, **(LINK if operation["operationId"] in paged else {})}
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                for choice in schema.get("anyOf", [schema]):
                    if choice.get("type") == "string" and "pattern" not in choice and "enum" not in choice:
                        choice["pattern"] = LINE_PATTERN
            if operation["operationId"] in idempotent or method == "post":  # the middleware takes a key on every POST
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    for schema in document["components"]["schemas"].values():
        keys_by_pattern(schema)
        if "translations" in schema.get("properties", {}):
            translations = schema["properties"]["translations"]
            for choice in translations.get("anyOf", [translations]):
                if choice.get("type") == "object":
                    choice["propertyNames"] = {"enum": list(languages)}
    for source, status, name, target, parameters, body in LINKS:
        if source in operations and target in operations:
            link = {"operationId": target, "parameters": parameters}
            if body:
                link["requestBody"] = body
            operations[source]["responses"][status].setdefault("links", {})[name] = link
    return document


def statuses(path: str, method: str, operation: dict) -> list[int]:
    found = [401, 403, 404, 413, 422, 429]  # 404: what the path or a parameter names does not exist
    if method != "get":
        found += [400, 409]
    if "/social/" in path or method != "get" and "holding" in path:
        found.append(502)
    return sorted(set(found))


def keys_by_pattern(schema) -> None:
    """pydantic states a constrained dict key as `patternProperties`, which leaves keys that do not
    match unconstrained; the server refuses them, so the document says it: `propertyNames` holds the
    pattern, `additionalProperties` the values."""
    if isinstance(schema, list):
        for item in schema:
            keys_by_pattern(item)
    if not isinstance(schema, dict):
        return
    if len(patterns := schema.get("patternProperties") or {}) == 1:
        (pattern, values), = patterns.items()
        del schema["patternProperties"]
        schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": pattern}
        schema["additionalProperties"] = values
    for value in schema.values():
        keys_by_pattern(value)
