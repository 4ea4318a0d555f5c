"""The full web app served by uvicorn on a loopback port, in a thread of the test process: what an
integrator's client (Schemathesis, the generated client) talks to over real HTTP."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from broadcaster.web.app import create_app
from broadcaster.web.bounds import HTTP_PARSER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(settings, **app_state) -> Iterator[str]:
    """The app on 127.0.0.1:<free port> while the block runs; yields its base URL."""
    app = create_app(settings)
    for key, value in app_state.items():
        setattr(app.state, key, value)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           http=HTTP_PARSER))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a thread's start and uvicorn's import, on a busy machine
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
