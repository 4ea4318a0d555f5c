"""The worker side's Celery app: the producer's app (``broadcaster.delivery.broker``) for the
configured broker, with this package's tasks registered on it."""

from broadcaster.config import get_settings
from broadcaster.delivery.broker import BULK, LIVE, RECONCILE, make_app, register

__all__ = ["BULK", "LIVE", "RECONCILE", "celery_app"]

celery_app = register(get_settings(), make_app(get_settings()))
