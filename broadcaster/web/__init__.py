"""The web side, routes grouped by who calls them: provider webhooks and unsubscribe links
(``webhooks``), with ``/metrics`` and ``/healthz`` in the app factory (``app.create_app``)."""
