"""Local fakes of the outside providers (Twilio, SendGrid, X) for tests and benchmarks.

``provider`` is the server (``python -m tests.fakes.provider --port N``); ``server.running_fake`` starts one
in a subprocess for a test and talks to its control endpoints.
"""
