"""The database: tables (`models`, `access_models`, `social_models`, `alert_models`, `postmortem_models`,
`api_models`, `event_models`, on the base in `orm`), sessions and migrations (`db`), stored content (`content`) and rows
as plain dicts (`row_views`).

Importing the package loads every table module, so `Base.metadata` always knows every table."""

from . import (  # noqa: F401
    access_models,
    alert_models,
    api_models,
    event_models,
    models,
    postmortem_models,
    social_models,
    stakeholder_models,
)
