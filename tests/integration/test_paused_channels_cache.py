"""A process reads its paused channels from the database once a `_CACHE_SECONDS`, however many send
threads ask at that moment (every send asks before and after its call)."""

import threading
import time
from contextlib import contextmanager

from broadcaster.delivery import pause


def test_send_threads_asking_together_read_the_paused_channels_once(settings, monkeypatch):
    pause.pause(settings, "sms", "401 from the provider")
    pause.forget_cached(settings.database_url)
    # Kept a minute, not a second: on a busy machine a thread may reach the cache after a second has passed.
    monkeypatch.setattr(pause, "_CACHE_SECONDS", 60.0)
    queries, real_transaction = [], pause.transaction

    @contextmanager
    def slow_transaction(url):
        queries.append(url)
        time.sleep(0.1)  # a query the other threads arrive during, as on a busy database
        with real_transaction(url) as s:
            yield s

    monkeypatch.setattr(pause, "transaction", slow_transaction)
    start, answers = threading.Barrier(8), []

    def send_thread() -> None:
        start.wait()
        answers.append(pause.held_back(settings, "sms"))

    threads = [threading.Thread(target=send_thread) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(queries) == 1
    assert len(answers) == 8 and all(answer and "401 from the provider" in answer for answer in answers)
