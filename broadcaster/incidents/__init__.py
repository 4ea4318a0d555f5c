"""Incidents and their statements: open an incident, draft, edit, preview and submit a version
(`statements`, `drafting`), publish it (`publishing`: the transactional outbox), the components the
status page lists (`components`), scheduled maintenance (`maintenance`) and the consistency audit of
what every channel shows (`consistency`)."""
