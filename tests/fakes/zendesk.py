"""A local fake of the Zendesk macro endpoints the `zendesk` channel uses (create, update, show, search),
for its tests: it checks basic auth (`email/token:TOKEN`), numbers macros as Zendesk does and keeps them
by id, and can answer the next requests with an HTTP status, or save a write and then drop the answer
(an outcome the sender cannot know).

    with FakeZendesk() as zendesk:
        settings = Settings(zendesk_api_url=zendesk.url, zendesk_email=zendesk.email,
                            zendesk_api_token=zendesk.token, ...)
        ...
        (macro,) = zendesk.macros.values()
"""

import base64
import json
import threading
from collections import deque
from urllib.parse import parse_qs, urlsplit

from tests.fakes.json_handler import JsonHandler, LocalJsonServer

SAVED_THEN_DROPPED = -1  # a write fault: saved, then the connection closes without an answer


class FakeZendesk(LocalJsonServer):
    def __init__(self, email: str = "agent@example.com", token: str = "zd-token"):
        self.email, self.token = email, token
        self.macros: dict[int, dict] = {}  # id → the macro as Zendesk keeps it
        self.writes: list[tuple[str, str, dict]] = []  # (method, path, body) of each create and update saved
        self.faults: deque[tuple[int, dict, dict]] = deque()  # (status, body, headers) for the next calls
        self.write_faults: deque[tuple[int, dict, dict]] = deque()  # the same, for the next creates and updates
        self._next_id = 360000001
        self._lock = threading.Lock()
        self._serve(self._handler())

    def settings(self) -> dict:
        return {"zendesk_api_url": self.url, "zendesk_email": self.email, "zendesk_api_token": self.token,
                "zendesk_rate": "100/second"}

    def fail_next(self, status: int, body: dict | None = None, headers: dict | None = None,
                  write: bool = False) -> None:
        """Answer the next call (the next create or update, with `write`) with `status`; SAVED_THEN_DROPPED
        saves that write and closes the connection without an answer."""
        (self.write_faults if write else self.faults).append((status, body or {"error": f"fault {status}"},
                                                              headers or {}))

    def _authorised(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        return header == f"Basic {expected}"

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def do_GET(self):
                self._handle("GET", None)

            def do_POST(self):
                self._handle("POST", self._body())

            def do_PUT(self):
                self._handle("PUT", self._body())

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

            def _handle(self, method: str, body: dict | None):
                parts = urlsplit(self.path)
                with fake._lock:
                    queue = fake.write_faults if method != "GET" and fake.write_faults else fake.faults
                    fault = queue.popleft() if queue else None
                    if fault and fault[0] != SAVED_THEN_DROPPED:
                        return self._answer(*fault)
                    if not fake._authorised(self.headers.get("Authorization")):
                        return self._answer(401, {"error": "Couldn't authenticate you"})
                    status, answer = self._route(method, parts.path, parse_qs(parts.query), body)
                    if fault:  # saved, and the answer never comes
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return None
                return self._answer(status, answer)

            def _route(self, method: str, path: str, query: dict, body: dict | None) -> tuple[int, dict]:
                if path == "/api/v2/macros/search.json" and method == "GET":
                    words = query.get("query", [""])[0]
                    return 200, {"macros": [m for m in fake.macros.values() if words in m["title"]]}
                if path == "/api/v2/macros.json" and method == "POST":
                    macro = {**body["macro"], "id": fake._next_id}
                    fake._next_id += 1
                    if not macro.get("title") or not macro.get("actions"):
                        return 422, {"error": "RecordInvalid", "description": "Record validation errors"}
                    fake.macros[macro["id"]] = macro
                    fake.writes.append((method, path, body))
                    return 201, {"macro": macro}
                if path.startswith("/api/v2/macros/") and path.endswith(".json"):
                    macro_id = path.removeprefix("/api/v2/macros/").removesuffix(".json")
                    macro = fake.macros.get(int(macro_id)) if macro_id.isdigit() else None
                    if macro is None:
                        return 404, {"error": "RecordNotFound", "description": "Not found"}
                    if method == "PUT":
                        macro.update(body["macro"])
                        fake.writes.append((method, path, body))
                    return 200, {"macro": macro}
                return 404, {"error": "InvalidEndpoint", "description": "Not found"}

        return Handler
