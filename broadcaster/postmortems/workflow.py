"""Writing, previewing, approving and publishing a postmortem; who is emailed it.

Like a statement: the content (the Markdown and the HTML it renders to) has one SHA-256 hash; an
approval names the hash its approver saw and is sealed with the secret key (which is not in the
database); no one who wrote or edited it may approve it; it needs as many approvals as the
incident's highest impact needs for a statement. Editing makes a new content hash, so approvals of
the old one no longer count. Publishing re-checks the hash and every seal: a row rewritten behind
the app's back (hashes recomputed and all) is refused.
"""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ..approvals.decisions import policy
from ..config import Settings
from ..delivery import broker
from ..delivery.dispatch import Dispatch
from ..delivery.messages import add_message
from ..domain.approval import Actor, check_can_approve
from ..domain.errors import InvalidInput, NotAllowed, NotFound
from ..domain.hashing import canonical_json, sha256_of
from ..domain.message_secrets import MessageKind
from ..render.environment import environment
from ..store.models import Incident, Subscriber, utcnow
from ..store.postmortem_models import Postmortem, PostmortemApproval, PostmortemOptIn
from ..surfaces.export import export_if_configured
from ..surfaces.freshness import notify_public_servers
from ..usecase import acting, get, log_action, unit_of_work
from .rendering import MOST_CHARACTERS, to_html
from .states import PostmortemState

EMAIL_TEMPLATES = "_web/postmortem_email"
EMAIL_KEEPS_DAYS = 7  # a postmortem email not sent within a week is not sent


def content_hash(markdown: str, html: str) -> str:
    return sha256_of({"markdown": markdown, "html": html})


def seal(secret_key: str, postmortem_id: int, hash_: str, approver_id: int, at: datetime) -> str:
    """HMAC-SHA256 over one approval, under the secret key; prefixed so it is never valid as a
    statement's approval seal (domain.approval.seal) or the other way round."""
    if not secret_key:
        raise NotAllowed("no secret key to seal approvals with: run `broadcaster init` or set BROADCASTER_SECRET_KEY")
    message = canonical_json(["postmortem approval", int(postmortem_id), hash_, int(approver_id),
                              at.astimezone(UTC).isoformat(timespec="microseconds")])
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def preview(markdown: str) -> dict:
    """What `markdown` would show, and the hash it would have: nothing stored."""
    markdown = _checked(markdown)
    html = to_html(markdown)
    return {"markdown": markdown, "html": html, "content_hash": content_hash(markdown, html)}


def write(settings: Settings, actor: Actor, incident_id: int, markdown: str) -> dict:
    """Write (or rewrite) the postmortem of a resolved incident. Its author becomes a contributor,
    who cannot approve it; a published postmortem is never changed."""
    shown = preview(markdown)
    with acting(settings, actor, "draft", f"incident:{incident_id}") as s:
        incident = get(s, Incident, incident_id)
        if incident.kind != "incident" or incident.resolved_at is None:
            raise NotAllowed(f"incident {incident_id} is not resolved: a postmortem is written after it is "
                             "(publish a resolved statement first)")
        postmortem = s.scalar(select(Postmortem).where(Postmortem.incident_id == incident_id).with_for_update())
        now = utcnow()
        if postmortem is None:
            postmortem = Postmortem(incident_id=incident_id, created_at=now, contributors=[], notified=0)
            s.add(postmortem)
        elif postmortem.state == PostmortemState.PUBLISHED:
            raise NotAllowed(f"the postmortem of incident {incident_id} is published; it is never changed")
        postmortem.markdown, postmortem.html = shown["markdown"], shown["html"]
        postmortem.content_hash, postmortem.updated_at = shown["content_hash"], now
        postmortem.state = PostmortemState.DRAFT.value
        postmortem.contributors = sorted({*(postmortem.contributors or []), actor.id})
        s.flush()
        log_action(s, actor, "write postmortem", f"postmortem:{postmortem.id}",
                   {"incident": incident_id, "content_hash": shown["content_hash"]})
        return _view(settings, postmortem)


def get_postmortem(settings: Settings, postmortem_id: int) -> dict:
    with unit_of_work(settings) as s:
        return _view(settings, get(s, Postmortem, postmortem_id))


def of_incident(settings: Settings, incident_id: int) -> dict:
    with unit_of_work(settings) as s:
        postmortem = s.scalar(select(Postmortem).where(Postmortem.incident_id == incident_id))
        if postmortem is None:
            raise NotFound(f"incident {incident_id} has no postmortem; write one with `broadcaster postmortem write`")
        return _view(settings, postmortem)


def approve(settings: Settings, actor: Actor, postmortem_id: int, seen_hash: str | None = None) -> dict:
    """One sealed approval of exactly the content `seen_hash` names (default: what is stored now)."""
    with acting(settings, actor, "approve", f"postmortem:{postmortem_id}") as s:
        postmortem = get(s, Postmortem, postmortem_id, lock=True)
        if postmortem.state == PostmortemState.PUBLISHED:
            raise NotAllowed(f"postmortem {postmortem_id} is published already")
        hash_now = _verified_hash(postmortem)
        approved_by = [a.approver_id for a in _sealed_approvals(settings, postmortem, hash_now)]
        seen = hash_now if not seen_hash else _expand(seen_hash, hash_now)
        check_can_approve(actor, postmortem.contributors or [], approved_by, seen, hash_now)
        at = utcnow()
        s.add(PostmortemApproval(postmortem=postmortem, approver_id=actor.id, content_hash=hash_now, created_at=at,
                                 seal=seal(settings.secret_key, postmortem.id, hash_now, actor.id, at)))
        count, needed = len(approved_by) + 1, _needed(settings, postmortem)
        if count >= needed:
            postmortem.state = PostmortemState.APPROVED.value
        s.flush()
        log_action(s, actor, "approve postmortem", f"postmortem:{postmortem.id}",
                   {"content_hash": hash_now, "approvals": count, "needed": needed})
        return _view(settings, postmortem)


def publish(settings: Settings, actor: Actor, postmortem_id: int, dispatch: Dispatch | None = None) -> dict:
    """Show the approved postmortem on the page, the feeds and the JSON, and email it (through the
    engine, after commit) to every subscriber who asked for postmortems and has not opted out."""
    with acting(settings, actor, "publish", f"postmortem:{postmortem_id}") as s:
        postmortem = get(s, Postmortem, postmortem_id, lock=True)
        if postmortem.state != PostmortemState.APPROVED:
            raise NotAllowed(f"postmortem {postmortem_id} is {postmortem.state}, not approved: it needs "
                             f"{_needed(settings, postmortem)} approval(s) of its current content first")
        hash_now = _verified_hash(postmortem)
        if len(_sealed_approvals(settings, postmortem, hash_now)) < _needed(settings, postmortem):
            raise NotAllowed(f"postmortem {postmortem_id}: its approvals are not for its current content")
        postmortem.state = PostmortemState.PUBLISHED.value
        postmortem.published_at, postmortem.published_by_id = utcnow(), actor.id
        delivery_ids = _email_subscribers(s, settings, postmortem)
        postmortem.notified = len(delivery_ids)
        log_action(s, actor, "publish postmortem", f"postmortem:{postmortem.id}",
                   {"content_hash": hash_now, "emailed": len(delivery_ids)})
        view = _view(settings, postmortem)
    if delivery_ids:
        (dispatch or broker.enqueue)(settings, delivery_ids)
    export_if_configured(settings)
    notify_public_servers(settings)  # the pages changed as on a switch: the public servers read them again
    return view


def opt_in(settings: Settings, actor: Actor, email: str, wanted: bool = True) -> dict:
    """Email this subscriber the postmortems published from now on (or stop)."""
    with acting(settings, actor, "manage subscribers", f"subscriber:{email}") as s:
        subscriber = s.scalar(select(Subscriber).where(Subscriber.email == email.strip().lower()))
        if subscriber is None:
            raise NotFound(f"no subscriber with the email address {email!r}")
        kept = s.get(PostmortemOptIn, subscriber.id)
        if wanted and kept is None:
            s.add(PostmortemOptIn(subscriber_id=subscriber.id, created_at=utcnow()))
        elif not wanted and kept is not None:
            s.delete(kept)
        log_action(s, actor, "postmortem emails" if wanted else "no postmortem emails",
                   f"subscriber:{subscriber.id}", {})
        return {"subscriber": subscriber.id, "email": subscriber.email, "postmortems": wanted}


# --- parts ---


def _checked(markdown: str) -> str:
    markdown = (markdown or "").replace("\r\n", "\n").strip()
    if not markdown:
        raise InvalidInput("postmortem: write something (Markdown)")
    if len(markdown) > MOST_CHARACTERS:
        raise InvalidInput(f"postmortem: at most {MOST_CHARACTERS} characters, got {len(markdown)}")
    return markdown


def _needed(settings: Settings, postmortem: Postmortem) -> int:
    incident = postmortem.incident
    return policy(settings).required(incident.highest_impact or incident.impact)


def _verified_hash(postmortem: Postmortem) -> str:
    """Re-hash what is stored (and re-render the Markdown): refuse words changed behind the app's back."""
    hash_now = content_hash(postmortem.markdown, postmortem.html)
    if hash_now != postmortem.content_hash or to_html(postmortem.markdown) != postmortem.html:
        raise NotAllowed(f"postmortem {postmortem.id}: its stored content does not match its hash or its "
                         "Markdown (changed outside Broadcaster); refusing")
    return hash_now


def _sealed_approvals(settings: Settings, postmortem: Postmortem, hash_now: str) -> list[PostmortemApproval]:
    found = []
    for approval in postmortem.approvals:
        expected = seal(settings.secret_key, postmortem.id, approval.content_hash, approval.approver_id,
                        approval.created_at)
        if not hmac.compare_digest(expected, approval.seal or ""):
            raise NotAllowed(f"postmortem {postmortem.id}: approval {approval.id} has no valid seal (not made by "
                             "Broadcaster with this secret key, or its row was changed); refusing")
        if approval.content_hash == hash_now:
            found.append(approval)
    return found


def _expand(seen: str, hash_now: str) -> str:
    """A hash prefix of 12 or more characters stands for the full hash it begins."""
    return hash_now if len(seen) >= 12 and hash_now.startswith(seen) else seen


def _email_subscribers(s, settings: Settings, postmortem: Postmortem) -> list[int]:
    """One message per language, one delivery per opted-in subscriber's email address."""
    rows = s.execute(select(Subscriber.email, Subscriber.locale).join(
        PostmortemOptIn, PostmortemOptIn.subscriber_id == Subscriber.id).where(
        Subscriber.email.is_not(None), Subscriber.opted_out_at.is_(None))).all()
    by_locale: dict[str, list[str]] = {}
    for email, locale in rows:
        chosen = locale if locale in settings.all_locales else settings.default_locale
        by_locale.setdefault(chosen, []).append(email)
    ids = []
    expires = utcnow() + timedelta(days=EMAIL_KEEPS_DAYS)
    for locale, addresses in sorted(by_locale.items()):
        fields = _email_fields(settings, postmortem, locale)
        deliveries = add_message(s, settings, MessageKind.POSTMORTEM, f"postmortem:{postmortem.id}", "email",
                                 fields, sorted(addresses), expires, locale=locale)
        ids += [d.id for d in deliveries]
    return ids


def _email_fields(settings: Settings, postmortem: Postmortem, locale: str) -> dict[str, str]:
    env = environment(settings.templates_dir, locale)
    root = settings.status_page_url.rstrip("/")
    query = "" if locale == settings.default_locale else f"?lang={locale}"
    context = {"company_name": settings.company_name, "title": postmortem.incident.title,
               "markdown": postmortem.markdown, "html": postmortem.html,
               "url": f"{root}/status{query}#incident-{postmortem.incident_id}",
               "manage_url": f"{root}/subscribe/manage{query}"}
    return {name: env.get_template(f"{EMAIL_TEMPLATES}/{name}{ext}").render(**context).strip()
            for name, ext in (("subject", ".txt"), ("body_text", ".txt"), ("body_html", ".html"))}


def _view(settings: Settings, postmortem: Postmortem) -> dict:
    hash_now = postmortem.content_hash
    approvals = [a for a in postmortem.approvals if a.content_hash == hash_now]
    return {"id": postmortem.id, "incident_id": postmortem.incident_id, "state": postmortem.state,
            "markdown": postmortem.markdown, "html": postmortem.html, "content_hash": hash_now,
            "approvals": len(approvals), "approvals_needed": _needed(settings, postmortem),
            "approved_by": [a.approver.name for a in approvals], "contributors": postmortem.contributors,
            "published_at": postmortem.published_at.isoformat() if postmortem.published_at else None,
            "emailed": postmortem.notified}
