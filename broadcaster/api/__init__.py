"""The web side: provider webhooks, unsubscribe links, /metrics and /healthz (`create_app`)."""
