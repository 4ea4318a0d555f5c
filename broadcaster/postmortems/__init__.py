"""Postmortems: after an incident is resolved, an author writes what happened in Markdown; it is
previewed (rendered and sanitised), approved like a statement (never by its author, sealed approvals
of exactly the content hash seen, as many as the incident's highest impact needs), then published on
the incident's page, the feeds and the Statuspage JSON, and emailed through the engine to the
subscribers who asked for postmortems."""
