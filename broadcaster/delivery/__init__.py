"""How a published statement reaches every target, one module per job:

- ``enqueue``: committed deliveries onto the broker (``broker``: the Celery app as a producer);
- ``chunk``: a chunk of deliveries claimed, checked against the approval, sent, recorded;
- ``records``: claim and record, the only code that moves a delivery's status, and the send log;
- ``ratelimit``: the fleet-wide pace and cap per provider account;
- ``sweep``: beat's periodic job (expired leases, reconciliation, what is due) and operator resends;
- ``progress``: how far a fan-out has got;
- ``status``: the statuses and what they mean.
"""
