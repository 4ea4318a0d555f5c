"""JSON schemas of Statuspage's public v2 API (https://metastatuspage.com/api/v2), written from
its documented field names and value sets, so a widget written for Statuspage reads ours."""

TIME = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}
MAYBE_TIME = {"anyOf": [TIME, {"type": "null"}]}
ID = {"type": "string", "minLength": 1}

PAGE = {
    "type": "object",
    "required": ["id", "name", "url", "time_zone", "updated_at"],
    "properties": {"id": ID, "name": {"type": "string"}, "url": {"type": "string", "pattern": "^https?://"},
                   "time_zone": {"type": "string"}, "updated_at": TIME},
}
STATUS = {
    "type": "object",
    "required": ["indicator", "description"],
    "properties": {"indicator": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
                   "description": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
COMPONENT = {
    "type": "object",
    "required": ["id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
                 "start_date", "group_id", "page_id", "group", "only_show_if_degraded"],
    "properties": {
        "id": ID, "name": {"type": "string", "minLength": 1},
        "status": {"enum": ["operational", "degraded_performance", "partial_outage", "major_outage",
                            "under_maintenance"]},
        "created_at": TIME, "updated_at": TIME, "position": {"type": "integer"},
        "description": {"type": ["string", "null"]}, "showcase": {"type": "boolean"},
        "start_date": {"type": ["string", "null"]}, "group_id": {"type": ["string", "null"]}, "page_id": ID,
        "group": {"type": "boolean"}, "only_show_if_degraded": {"type": "boolean"},
    },
}
INCIDENT_UPDATE = {
    "type": "object",
    "required": ["id", "status", "body", "incident_id", "created_at", "updated_at", "display_at"],
    "properties": {"id": ID, "status": {"enum": ["investigating", "identified", "monitoring", "resolved",
                                                 "postmortem", "scheduled", "in_progress", "verifying",
                                                 "completed"]},
                   "body": {"type": "string"}, "incident_id": ID, "created_at": TIME, "updated_at": TIME,
                   "display_at": TIME},
}
INCIDENT = {
    "type": "object",
    "required": ["id", "name", "status", "impact", "shortlink", "created_at", "updated_at", "monitoring_at",
                 "resolved_at", "started_at", "page_id", "components", "incident_updates"],
    "properties": {
        "id": ID, "name": {"type": "string", "minLength": 1},
        "status": {"enum": ["investigating", "identified", "monitoring", "resolved", "postmortem"]},
        "impact": {"enum": ["none", "minor", "major", "critical"]},
        "shortlink": {"type": "string", "pattern": "^https?://"},
        "created_at": TIME, "updated_at": TIME, "monitoring_at": MAYBE_TIME, "resolved_at": MAYBE_TIME,
        "started_at": TIME, "page_id": ID, "components": {"type": "array", "items": COMPONENT},
        "incident_updates": {"type": "array", "minItems": 1, "items": INCIDENT_UPDATE},
    },
}
MAINTENANCE = {  # Statuspage's scheduled maintenance: an incident's fields, its window and its own statuses
    "type": "object",
    "required": [*INCIDENT["required"], "scheduled_for", "scheduled_until"],
    "properties": {
        **INCIDENT["properties"],
        "status": {"enum": ["scheduled", "in_progress", "verifying", "completed"]},
        "impact": {"enum": ["none", "maintenance", "minor", "major", "critical"]},
        "scheduled_for": TIME, "scheduled_until": TIME,
    },
}


def _document(**properties) -> dict:
    return {"type": "object", "required": ["page", *properties], "additionalProperties": False,
            "properties": {"page": PAGE, **properties}}


INCIDENTS = {"type": "array", "items": INCIDENT}
MAINTENANCES = {"type": "array", "items": MAINTENANCE}
SCHEMAS = {
    "summary.json": _document(components={"type": "array", "items": COMPONENT}, incidents=INCIDENTS,
                              scheduled_maintenances=MAINTENANCES, status=STATUS),
    "status.json": _document(status=STATUS),
    "components.json": _document(components={"type": "array", "items": COMPONENT}),
    "incidents.json": _document(incidents=INCIDENTS),
    "incidents/unresolved.json": _document(incidents=INCIDENTS),
    "scheduled-maintenances.json": _document(scheduled_maintenances=MAINTENANCES),
    "scheduled-maintenances/upcoming.json": _document(scheduled_maintenances=MAINTENANCES),
    "scheduled-maintenances/active.json": _document(scheduled_maintenances=MAINTENANCES),
}
