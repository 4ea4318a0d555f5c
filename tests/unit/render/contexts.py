"""What the templates read beyond a statement's own fields, filled in for a context built by hand
(the product builds it in incidents/translations.py `context`, from the rows)."""

from datetime import timedelta

from broadcaster.domain.notices import Notice, notice_of


def complete(context: dict) -> dict:
    """`context` with the notice its kind and status make, and what that notice is said about: a
    resolved incident's resolution line and the span it lasted, a maintenance's window."""
    kind = context.get("kind", "incident")
    notice = notice_of(kind, context["status"])
    now = context["now"]
    filled = {
        "kind": kind, "notice": notice.value, "window": None, "contact_centre_closed": False,
        "affected_span": (now - timedelta(minutes=38), now) if notice is Notice.RESOLVED else None,
        "resolution": "It works normally again." if notice is Notice.RESOLVED else "",
        "subscribe_url": context.get("status_url", "https://status.example.com") + "/subscribe",
        "speech_language": "en-US",
        "agent_answers": [], "do_not_promise": "",  # the agent notes and stakeholder fields the author left out
        "internal": {"impact": "", "customers_affected": "", "owner": "", "eta": ""},
    }
    if kind == "maintenance":
        filled["window"] = (now + timedelta(days=2), now + timedelta(days=2, hours=2))
    return {**filled, **context}
