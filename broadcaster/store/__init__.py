"""The database: tables (`models`, `access_models`, `social_models`, `alert_models`, `postmortem_models`,
`api_models`, `event_models`, `stakeholder_models`, on the base in `orm`), sessions and migrations (`db`),
stored content (`content`) and rows as plain dicts (`row_views`).

Importing the package loads none of them: a module imports the tables it uses, so a command loads and
maps only those (each table module costs a CLI command's start its classes and their relationships).
`schema` loads every table and the partial indexes, for what needs the whole database's shape on
`Base.metadata`: the migrations' checks."""
