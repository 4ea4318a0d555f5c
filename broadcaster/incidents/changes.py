"""What a version changes since the live one: the fields (status, impact, the words, the next update)
and each channel's words, word by word. An approver reads this first: what is new since customers
last read us. A first version says it is the first.

The live version is the last one customers saw before this one: the published (or since superseded)
version of the same incident with the highest number below it; for a draft in the editor, the one
published now. Markup a channel also sends as source (an email's HTML, the phone line's SSML and
TwiML) is left out: its readable twin (the text body, the script) carries the same words.
"""

import html
import re

from ..domain.lifecycle import State
from ..domain.word_diff import changed, counts, word_diff
from ..store.content import stored_renditions
from ..store.models import Incident, Statement
from ..store.row_views import statement_view

SOURCE_ONLY = {"body_html", "ssml", "twiml"}
TEXT_FIELDS = ("headline", "body", "workaround", "resolution")
OTHER_FIELDS = ("status", "impact", "components", "next_update_at", "contact_centre_closed")
SEEN = (State.PUBLISHED.value, State.SUPERSEDED.value)


def live_before(incident: Incident, version: int | None) -> Statement | None:
    """The last version customers saw before `version` (None: the one live now)."""
    seen = [st for st in incident.statements if st.state in SEEN and (version is None or st.version < version)]
    return max(seen, key=lambda st: st.version) if seen else None


def since_live(live: Statement | None, now: dict, channels_now: dict) -> dict:
    """The changes from `live` (a statement row, or None for a first version) to `now` (a statement's
    fields as `statement_view` gives them) and its renditions in its own language (`channels_now`:
    {channel: fields}, extra keys such as a preview's limits ignored). JSON-ready."""
    if live is None:
        return {"first": True, "live": None, "fields": [], "channels": {},
                "summary": {"fields": [], "channels": [], "added": 0, "removed": 0}}
    before = statement_view(live)
    fields = [*_field_changes(before, now), *_translation_changes(before, now)]
    channels = _channel_changes(stored_renditions(live), channels_now)
    added = sum(c["added"] for c in channels.values() if c["changed"])
    removed = sum(c["removed"] for c in channels.values() if c["changed"])
    return {"first": False, "live": {"id": live.id, "version": live.version, "state": live.state},
            "fields": fields, "channels": channels,
            "summary": {"fields": [f["field"] for f in fields],
                        "channels": [name for name, c in channels.items() if c["changed"]],
                        "added": added, "removed": removed}}


def _field_changes(before: dict, now: dict) -> list[dict]:
    found = []
    for name in TEXT_FIELDS:
        pieces = word_diff(before.get(name) or "", now.get(name) or "")
        if changed(pieces):
            found.append({"field": name, "locale": "", "before": before.get(name) or "", "after": now.get(name) or "",
                          "diff": _json(pieces)})
    for name in OTHER_FIELDS:
        old, new = before.get(name), now.get(name)
        if _comparable(old) != _comparable(new):
            found.append({"field": name, "locale": "", "before": old, "after": new, "diff": None})
    return found


def _translation_changes(before: dict, now: dict) -> list[dict]:
    found = []
    old_all, new_all = before.get("translations") or {}, now.get("translations") or {}
    for locale in sorted(set(old_all) | set(new_all)):
        old, new = old_all.get(locale) or {}, new_all.get(locale) or {}
        for name in TEXT_FIELDS:
            pieces = word_diff(old.get(name) or "", new.get(name) or "")
            if changed(pieces):
                found.append({"field": name, "locale": locale, "before": old.get(name) or "",
                              "after": new.get(name) or "", "diff": _json(pieces)})
    return found


def _channel_changes(live: dict, now: dict) -> dict:
    found = {}
    for channel, fields in now.items():
        old_fields = live.get(channel, {})
        diffs, added, removed = {}, 0, 0
        for name, text in fields.items():
            if name in SOURCE_ONLY or not isinstance(text, str):
                continue
            pieces = word_diff(_readable(old_fields.get(name, "")), _readable(text))
            plus, minus = counts(pieces)
            added, removed = added + plus, removed + minus
            diffs[name] = _json(pieces)
        moved = any(op != "same" for diff in diffs.values() for op, _ in diff)
        found[channel] = {"changed": moved,
                          "new": channel not in live, "added": added, "removed": removed, "fields": diffs}
    return found


def _readable(text: str) -> str:
    """HTML (the status page's body) as the words it shows; other text as it is."""
    if text.lstrip().startswith("<"):
        return html.unescape(re.sub(r"\n\s*\n", "\n", re.sub(r"<[^>]+>", "", text))).strip()
    return text


def _comparable(value):
    """A field's value as compared: no value, an empty list and False are all "nothing"."""
    return value or None


def _json(pieces) -> list[list[str]]:
    return [[p.op, p.text] for p in pieces]

