"""Statement templates: reusable drafts per kind of failure (title, impact, components, headline, body,
workaround, next update, resolution) whose `{placeholders}` are filled when a statement is started from
one, in the editor, the API, the CLI, or by an alert rule (`broadcaster.alerts`). A template is not
approved: what it starts is a draft like any other, submitted and approved as usual.

`statement_templates` holds the use cases, `placeholders` the vocabulary (`Placeholder`) and the filling (pure).
"""
