"""Celery app and tasks (fan-out, send chunk, sweep, reconcile): arrives with the delivery engine."""
