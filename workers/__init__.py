"""The Celery side: the app (``app.py``), its tasks (``tasks.py``), and how deliveries are
put on the broker (``enqueue``). Tasks are thin: the work lives in ``broadcaster.sending``."""
