"""Zendesk: each incident's live agent notes as one shared macro in the contact centre's helpdesk, through
its REST API (httpx): created on the incident's first published version, updated on every later one,
retired (made inactive, so its history stays) by the version that resolves it.

The macro's words are the approved agent rendition (`renditions_of="agent"`: nothing of its own is
rendered, hashed or approved): each field a paragraph, the approved answers after them, as an internal
note (applying it never replies to the customer: what not to promise is in it). Its description names
the incident, the version and the statement's content hash, so an agent and the audit can see which
approved words the macro holds. The macro's id is recorded on the delivery and handed to the next
version (`SendContext.reply_to`), as Slack's thread root is.

Creating is the one call a resend could double: an answer that never came after a create or an update
makes the delivery `unknown`, and reconciliation looks the macro up (by the ids this incident's
deliveries recorded, then by its title's marker) for this version's hash before anything is resent;
a send with no id to update looks the macro up by its title first. A macro someone deleted in Zendesk
(404 on update) is created anew, and the delivery says so.
"""

import json
from html import escape
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..store.db import transaction
from ..store.models import Delivery, Statement
from .base import Channel, ErrorTable, Kind, SendContext, SendResult, Target, TransportError, retry_after_seconds

# httpx is imported where a transport is made and sends: rendering or listing the channels does not load it.
if TYPE_CHECKING:
    import httpx

NAME = "zendesk"
# 401/403: the token or its agent was refused; 404 on a create: no such account (the subdomain). Either
# way the channel pauses until it works again. 422: Zendesk refused the macro as invalid.
ZENDESK_ERRORS = ErrorTable(credentials={"401", "403", "404"}, permanent={"400", "413", "422"}, transient={"429"})
NOTES_ORDER = ("summary", "say", "workaround", "avoid", "next_update")  # as the agent desk shows them
MOST_TITLE_CHARACTERS = 150  # the macro list shows about this much
MOST_FOUND = 100  # macros a title search reads: ours is one of them


def marker(incident_id: int | None) -> str:
    """What every title of an incident's macro ends with: how it is found again, whatever it says."""
    return f"(Broadcaster #{incident_id})"


def description(context: SendContext) -> str:
    return f"Broadcaster incident {context.incident_id} v{context.version} · sha256 {context.content_hash}"


def notes_html(fields: dict[str, str]) -> str:
    """The agent notes as the macro's comment: each field a paragraph in the desk's order (escaped: the
    author's words are shown as typed), then each approved answer, its question in bold."""
    names = [name for name in NOTES_ORDER if fields.get(name)]
    names += sorted(name for name in fields if name not in NOTES_ORDER and name != "answers" and fields[name])
    paragraphs = ["<p>" + "<br>".join(escape(line) for line in fields[name].splitlines()) + "</p>" for name in names]
    paragraphs += [f"<p><strong>{escape(answer['question'])}</strong><br>{escape(answer['answer'])}</p>"
                   for answer in json.loads(fields.get("answers") or "[]")]
    return "\n".join(paragraphs)


def macro_for(fields: dict[str, str], context: SendContext) -> dict:
    """The macro of this version, as POST and PUT /api/v2/macros take it: shared (no restriction), active
    until the version that ends the incident."""
    headline = (fields.get("summary") or "").strip().splitlines()[:1] or [""]
    tail = " " + marker(context.incident_id)
    title = headline[0][:MOST_TITLE_CHARACTERS - len(tail)].strip() + tail
    return {"macro": {"title": title.strip(), "description": description(context), "active": not context.closes,
                      "restriction": None,
                      "actions": [{"field": "comment_value_html", "value": notes_html(fields)},
                                  {"field": "comment_mode_is_public", "value": "false"}]}}


class ZendeskMacros:
    provider = NAME
    batch_size = 1

    def __init__(self, settings: Settings):
        base = (settings.zendesk_api_url or f"https://{settings.zendesk_subdomain}.zendesk.com").rstrip("/")
        self.account = f"zendesk:{base}"
        self.database_url = settings.database_url
        import httpx

        from ._outbound import tls_context

        self.client = httpx.Client(base_url=base + "/api/v2", timeout=settings.provider_timeout_seconds,
                                   auth=(f"{settings.zendesk_email}/token", settings.zendesk_api_token),
                                   trust_env=False, follow_redirects=False, verify=tls_context())

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        macro = macro_for(fields, context)
        # The previous version's macro (an id Zendesk gave us: digits only, it goes into the path).
        previous = context.reply_to if (context.reply_to or "").isdigit() else None
        known = previous or self._find_by_title(context.incident_id)
        gone = None
        answer = self._write("PUT", f"/macros/{known}.json", macro) if known else None
        if known and answer is None:
            gone = known  # deleted in Zendesk since the last version: make it again
        if answer is None:
            answer = self._write("POST", "/macros.json", macro)
        macro_id = str(answer["macro"]["id"])
        done = "retired" if context.closes else "updated" if known and not gone else "created"
        detail = f"{done} macro {macro_id}" + (f" (macro {gone} was deleted in Zendesk)" if gone else "")
        return [SendResult(t.delivery_id, DeliveryStatus.SENT, macro_id, detail) for t in targets]

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        """The macro's id if Zendesk holds this delivery's version (its content hash in the description)."""
        incident_id, content_hash, recorded = self._what_was_sent(target.delivery_id)
        return self.holding(incident_id, content_hash, recorded) if content_hash else None

    def holding(self, incident_id: int | None, content_hash: str, recorded: list[str]) -> str | None:
        """The id of the incident's macro that holds the version with `content_hash`: asked by the ids its
        deliveries recorded (a title an admin changed is still found), then by the title's marker."""
        for macro_id in (r for r in recorded if r.isdigit()):
            found = self._read(f"/macros/{macro_id}.json")
            if found and content_hash in (found["macro"].get("description") or ""):
                return str(macro_id)
        for found in self._titled(incident_id):
            if content_hash in (found.get("description") or ""):
                return str(found["id"])
        return None

    def _what_was_sent(self, delivery_id: int) -> tuple[int | None, str | None, list[str]]:
        """The delivery's incident and content hash, and the macro ids this incident's deliveries recorded."""
        with transaction(self.database_url) as s:
            row = s.execute(select(Statement.incident_id, Statement.content_hash)
                            .join(Delivery, Delivery.statement_id == Statement.id)
                            .where(Delivery.id == delivery_id)).one_or_none()
            if row is None:
                return None, None, []
            recorded = s.scalars(select(Delivery.provider_message_id)
                                 .join(Statement, Statement.id == Delivery.statement_id)
                                 .where(Statement.incident_id == row.incident_id, Delivery.channel == NAME,
                                        Delivery.provider == NAME, Delivery.provider_message_id.is_not(None))
                                 .order_by(Statement.version.desc())).all()
        return row.incident_id, row.content_hash, list(dict.fromkeys(recorded))

    def _find_by_title(self, incident_id: int | None) -> str | None:
        found = self._titled(incident_id)
        return str(found[0]["id"]) if found else None

    def _titled(self, incident_id: int | None) -> list[dict]:
        """The incident's macros, found by the marker their titles end with (active or retired)."""
        answer = self._read("/macros/search.json", {"query": marker(incident_id), "per_page": MOST_FOUND})
        ours = marker(incident_id)
        return [m for m in (answer or {}).get("macros", []) if (m.get("title") or "").endswith(ours)]

    def _read(self, path: str, params: dict | None = None) -> dict | None:
        """A GET: None when Zendesk has no such thing. A read changes nothing, so any failure to get
        an answer is simply tried again later, never `unknown`."""
        import httpx

        try:
            response = self.client.get(path, params=params)
        except httpx.HTTPError as e:
            raise TransportError(f"zendesk: no answer to a lookup; nothing was changed: {e!r}") from e
        if response.status_code == 404:
            return None
        if response.status_code >= 300:
            error = _error(response)
            if error.ambiguous:  # a failed read leaves nothing to reconcile
                error = TransportError(str(error), code=error.code)
            raise error
        return response.json()

    def _write(self, method: str, path: str, macro: dict) -> dict | None:
        """A create or an update: Zendesk's answer, or None for an update of a macro that no longer exists."""
        import httpx

        try:
            response = self.client.request(method, path, json=macro)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise TransportError(f"zendesk: not sent, the request never reached Zendesk: {e}") from e
        except httpx.HTTPError as e:
            raise TransportError(f"zendesk: no answer after the macro was sent; it may have been saved: {e!r}",
                                 code="no answer", ambiguous=True) from e
        if response.status_code == 404 and method == "PUT":
            return None
        if response.status_code >= 300:
            raise _error(response)
        try:
            answer = response.json()
            answer["macro"]["id"]
        except (ValueError, KeyError, TypeError) as e:
            raise TransportError(f"zendesk: {response.status_code} without the macro in it; it may have been saved",
                                 code="no macro", ambiguous=True) from e
        return answer


def _error(response: "httpx.Response") -> TransportError:
    code = str(response.status_code)
    try:
        said = response.json()
        why = said.get("description") or said.get("error") or ""
    except ValueError:
        why = response.text[:200]
    return ZENDESK_ERRORS.error(f"zendesk: {code} {why}".strip(), code, response.status_code,
                                retry_after_seconds(response.headers.get("Retry-After")))


CHANNEL = Channel(
    NAME, Kind.LIVE, ZendeskMacros, renditions_of="agent", threads_updates=True,
    configured=lambda s: bool((s.zendesk_subdomain or s.zendesk_api_url) and s.zendesk_email
                              and s.zendesk_api_token),
    rate=lambda s: s.zendesk_rate,
)
