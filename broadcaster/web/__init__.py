"""The web side, grouped by who calls it:

- ``public``: what customers reach (banner, status page, Statuspage JSON, feeds, the subscribe form,
  the phone line); its own process for the public internet (``create_public_app``);
- ``webhooks``: provider callbacks and unsubscribe links;
- ``api``: the REST API under /api/v1 (one module per resource);
- ``dashboard``: the server-rendered pages for the team (one module per part);
- ``app``: the full app, with every router listed once (``routers()``), ``/metrics`` and ``/healthz``.
"""
