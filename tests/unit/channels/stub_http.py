"""A tiny scripted HTTP server on 127.0.0.1 for driving the real provider SDKs.

Queue responses with ``reply(status, body, headers)``; each request takes the next one
(or the default once the queue is empty) and is recorded in ``requests``.
"""

import json
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Scripted:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class StubServer:
    """`tls`: serve HTTPS with this server context (tests.fakes.receivers.certificate_authority)."""

    def __init__(self, default: Scripted | None = None, tls: ssl.SSLContext | None = None):
        self.requests: list[Recorded] = []
        self.hang_next = False  # the next request is recorded, then answered only after 2 s
        self.default = default or Scripted(200, b"{}", {"Content-Type": "application/json"})
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.tls = tls
        if tls is not None:
            # The handshake happens in the request's thread, not in the one accepting connections.
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True, do_handshake_on_connect=False)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def reply(self, status: int, body: dict | str | bytes = b"", headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._queue.append(Scripted(status, body, headers))

    def __enter__(self) -> "StubServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _next(self) -> Scripted:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                stub.requests.append(Recorded(self.command, parts.path, parse_qs(parts.query),
                                              dict(self.headers.items()), self.rfile.read(length)))
                scripted = stub._next()
                if stub.hang_next:  # accepted, but the answer comes too late for the client
                    stub.hang_next = False
                    time.sleep(2)
                self.send_response(scripted.status)
                for name, value in scripted.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(scripted.body)))
                self.end_headers()
                self.wfile.write(scripted.body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):  # keep pytest output clean
                pass

        return Handler


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
