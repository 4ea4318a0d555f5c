"""The Celery side: the app (``app.py``), its tasks (``tasks.py``) and the in-process worker of
the embedded default (``embedded.py``). Tasks are thin: the work lives in ``broadcaster.delivery``."""
