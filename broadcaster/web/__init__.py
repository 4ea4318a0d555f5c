"""The web side, routes grouped by who calls them:

- ``public``: what customers read (banner, status page, Statuspage JSON, feeds); servable by a
  process of its own (``create_public_app``, ``broadcaster serve --public``);
- ``ivr``: the phone line and inbound SMS (Twilio webhooks, signature checked);
- ``webhooks``: provider callbacks and unsubscribe links;
- ``app``: the full app (all of the above, ``/metrics`` and ``/healthz``).
"""
