"""A local fake of the Slack Web API (chat.postMessage, chat.update, chat.postEphemeral) and of a Teams
Workflows webhook, for the chat channels' tests: it checks the bot token, numbers each post's `ts` as Slack does, keeps
what it received, and can answer the next requests with a Slack error or an HTTP status.

    with FakeChat(token="xoxb-test") as chat:
        settings = Settings(slack_api_url=chat.slack_url, teams_webhook_url=chat.teams_url, ...)
        ...
        assert chat.slack_posts[1]["thread_ts"] == chat.slack_posts[0]["ts"]
"""

import json
import threading
from collections import deque
from urllib.parse import parse_qsl

from tests.fakes.json_handler import JsonHandler, LocalJsonServer


class FakeChat(LocalJsonServer):
    def __init__(self, token: str = "xoxb-test"):
        self.token = token
        self.slack_posts: list[dict] = []  # each chat.postMessage's arguments, with the ts it was given
        self.slack_updates: list[dict] = []
        self.slack_ephemeral: list[dict] = []  # each chat.postEphemeral's arguments
        self.teams_cards: list[dict] = []
        self.slack_faults: deque[tuple[int, dict, dict]] = deque()  # (status, body, headers) for the next calls
        self.teams_faults: deque[int] = deque()
        self._lock = threading.Lock()
        self._serve(self._handler())

    @property
    def slack_url(self) -> str:
        return self.url + "/api/"

    @property
    def teams_url(self) -> str:
        return self.url + "/teams/workflows/abc"

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or b"{}")
                else:
                    body = dict(parse_qsl(raw.decode()))
                if self.path.startswith("/teams/"):
                    return self._teams(body)
                return self._slack(self.path.removeprefix("/api/"), body)

            def _teams(self, body):
                with fake._lock:
                    status = fake.teams_faults.popleft() if fake.teams_faults else 202
                    if status == 202:
                        fake.teams_cards.append(body)
                self._answer(status, {} if status == 202 else {"error": {"code": str(status)}},
                             {"x-ms-workflow-run-id": f"run-{len(fake.teams_cards)}"} if status == 202 else {})

            def _slack(self, method, body):
                with fake._lock:
                    if fake.slack_faults:
                        status, answer, headers = fake.slack_faults.popleft()
                        return self._answer(status, answer, headers)
                    if self.headers.get("Authorization") != f"Bearer {fake.token}":
                        return self._answer(200, {"ok": False, "error": "invalid_auth"})
                    if method == "chat.postMessage":
                        ts = f"1700000000.{len(fake.slack_posts) + 1:06d}"
                        fake.slack_posts.append({**body, "ts": ts})
                        return self._answer(200, {"ok": True, "channel": body.get("channel"), "ts": ts})
                    if method == "chat.postEphemeral":
                        fake.slack_ephemeral.append(body)
                        return self._answer(200, {"ok": True, "message_ts": "1700000001.000001"})
                    if method == "chat.update":
                        fake.slack_updates.append(body)
                        return self._answer(200, {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")})
                return self._answer(200, {"ok": False, "error": "unknown_method"})

        return Handler
