"""The wording gallery: every channel's words for every kind of notice and status, in every language
of the installation, for one sample outage, written as files (`broadcaster wording`, docs/wording/).

It is committed, and a test renders it again and compares: a change to a template or a catalog
that was not regenerated fails, so every wording change is a diff a reviewer reads as customers
will. The sample is fixed (its time, zone and words), so the same templates give the same files.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from ..config import Settings
from ..render.environment import channel_templates, environment
from ..render.languages import CATALOGS
from . import translations as languages

# One outage and one maintenance, as a comms team would write them, in English and Spanish.
SAMPLE_NOW = datetime(2026, 11, 23, 19, 40, tzinfo=UTC)
SAMPLE_ZONE = "America/New_York"
SAMPLE_COMPANY = "Acme Cloud"
OUTAGE = {
    "title": "Login failures", "components": ["Login", "API"], "opened": SAMPLE_NOW - timedelta(minutes=38),
    "next_update": SAMPLE_NOW + timedelta(minutes=50),
    "en": {"headline": "Some customers cannot log in",
           "body": "About a third of sign-ins fail since 14:02. We traced it to this afternoon's release.",
           "workaround": "The mobile app is not affected: sign in there.",
           "resolution": "Logins work normally again.",
           "resolved_body": "We rolled back the release that caused it. Nobody needs to do anything."},
    "es": {"headline": "Algunos clientes no pueden iniciar sesión",
           "body": "Desde las 14:02 falla aproximadamente un tercio de los inicios de sesión. La causa es la "
                   "versión publicada esta tarde.",
           "workaround": "La aplicación móvil no está afectada: inicie sesión allí.",
           "resolution": "El inicio de sesión vuelve a funcionar con normalidad.",
           "resolved_body": "Retiramos la versión que lo causó. No necesita hacer nada."},
    "ja": {"headline": "一部のお客様がログインできません",
           "body": "14:02 以降、ログインの約3分の1が失敗しています。本日午後のリリースが原因です。",
           "workaround": "モバイルアプリは影響を受けていません。そちらからログインしてください。",
           "resolution": "ログインは正常に戻りました。",
           "resolved_body": "原因となったリリースを取り消しました。お客様の操作は必要ありません。"},
}
# What the author writes for agents and stakeholders about the outage (audience_notes.py).
OUTAGE_NOTES = {
    "agent_notes": {"answers": [
        {"question": "Is my data safe?", "answer": "Yes. Only signing in is affected; no data was lost or exposed."},
        {"question": "Can I get a refund?", "answer": "Not from the desk: note the account and say billing will "
                                                      "follow up if a credit applies."}],
        "do_not_promise": "Do not say it is fixed before the status page does"},
    "internal_notes": {"impact": "A third of web sign-ins fail; the mobile app and the API are fine.",
                       "customers_affected": "About 12,000 business customers", "owner": "Dana Reyes, identity team",
                       "eta": "Rollback under way, expected by 15:30"},
}
MAINTENANCE = {
    "title": "Database upgrade", "components": ["Login", "API"],
    "start": datetime(2026, 11, 29, 7, 0, tzinfo=UTC), "end": datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
    "en": {"headline": "Database upgrade",
           "body": "Logins and the API may be unavailable for up to 10 minutes during the window."},
    "es": {"headline": "Actualización de la base de datos",
           "body": "El inicio de sesión y la API pueden no estar disponibles hasta 10 minutos durante la ventana."},
    "ja": {"headline": "データベースのアップグレード",
           "body": "作業中、ログインとAPIが最大10分間ご利用いただけない場合があります。"},
}


@dataclass(frozen=True)
class Case:
    """One kind of notice at one status: a folder of the gallery."""

    name: str
    kind: str
    status: str
    contact_centre_closed: bool = False
    next_update: bool = True


CASES = (
    Case("incident-investigating", "incident", "investigating"),
    Case("incident-identified", "incident", "identified"),
    Case("incident-monitoring", "incident", "monitoring"),
    Case("incident-resolved", "incident", "resolved"),  # with sms.followup and ivr.callback: the follow-ups
    Case("holding-contact-centre-closed", "incident", "investigating", contact_centre_closed=True, next_update=False),
    Case("maintenance-scheduled", "maintenance", "scheduled"),
    Case("maintenance-in_progress", "maintenance", "in_progress"),
    Case("maintenance-completed", "maintenance", "completed"),
)


def sample_settings(settings: Settings) -> Settings:
    """The templates, in every language they have a catalog for (whatever this installation offers:
    the gallery is the same on every machine), with the sample's company, zone and addresses."""
    shipped = sorted(path.name.replace("_", "-") for path in (settings.templates_dir / CATALOGS).glob("*")
                     if (path / "LC_MESSAGES" / "messages.po").is_file())
    return settings.model_copy(update={
        "default_locale": "en", "locales": [tag for tag in shipped if tag != "en"], "required_locales": [],
        "ivr_language": "en-US", "ivr_voice": "Polly.Joanna", "ivr_languages": {}, "ivr_voices": {},
        "company_name": SAMPLE_COMPANY, "timezone": SAMPLE_ZONE, "status_page_url": "https://status.acme.example",
        "support_url": "https://help.acme.example", "ivr_support_hint": "acme dot example slash help",
        "ivr_support_hints": {"es": "acme punto example barra help", "ja": "acme ドット example スラッシュ help"}})


def _words(source: dict, locale: str, case: Case) -> dict[str, str]:
    words = source.get(locale) or source["en"]
    resolved = case.status == "resolved"
    return {"headline": words["headline"], "body": words["resolved_body"] if resolved else words["body"],
            "workaround": words.get("workaround", "") if case.kind == "incident" and not resolved else "",
            "resolution": words.get("resolution", "") if resolved else ""}


def sample_statement(settings: Settings, case: Case) -> SimpleNamespace:
    source = MAINTENANCE if case.kind == "maintenance" else OUTAGE
    own = _words(source, "en", case)
    incident = SimpleNamespace(
        title=source["title"], kind=case.kind, created_at=source.get("opened", SAMPLE_NOW),
        scheduled_for=source.get("start"), scheduled_until=source.get("end"))
    translations = {tag: _words(source, tag, case) for tag in settings.locales if tag in source}
    return SimpleNamespace(
        incident_id=1, incident=incident, version=3 if case.status == "resolved" else 1, status=case.status,
        impact="none" if case.kind == "maintenance" else "major", components=list(source["components"]),
        component_states={}, next_update_at=source.get("next_update") if case.next_update else None,
        contact_centre_closed=case.contact_centre_closed, language=settings.default_locale,
        translations=translations, **own, **(OUTAGE_NOTES if case.kind == "incident" else {}))


def render_gallery(settings: Settings) -> dict[str, str]:
    """{relative path: text} of every file of the gallery."""
    settings = sample_settings(settings)
    suffixes = {(channel, Path(name).stem): Path(name).suffix
                for channel, names in channel_templates(settings.templates_dir).items() for name in names}
    files: dict[str, str] = {}
    for case in CASES:
        statement = sample_statement(settings, case)
        own, translated = languages.render_all(settings, statement, SAMPLE_NOW)
        for tag, renditions in [(settings.default_locale, own), *translated.items()]:
            for channel, fields in renditions.items():
                for field, text in fields.items():  # named as its template is: sms.text.txt, email.body_html.html
                    files[f"{tag}/{case.name}/{channel}.{field}{suffixes[channel, field]}"] = text + "\n"
    for tag in settings.all_locales:
        files.update(_phone_line(settings, tag))
    return files


def _phone_line(settings: Settings, tag: str) -> dict[str, str]:
    """What the phone line says around the approved message: the menu and its promise for each
    call-back setting, the language menu line, the greeting."""
    env = environment(settings.templates_dir, tag)
    common = {"company_name": settings.company_name,
              "ivr_support_hint": settings.ivr_support_hints.get(tag, settings.ivr_support_hint)}
    said = {}
    for promise in ("text", "call"):
        for name in ("menu", "callback_recorded"):
            said[f"{name}.{promise}"] = env.get_template(f"_web/ivr/{name}.txt").render(promise=promise, **common)
    said["language"] = env.get_template("_web/ivr/language.txt").render(digit=2, **common)
    for name in ("greeting", "goodbye"):
        said[name] = env.get_template(f"_web/ivr/{name}.txt").render(**common)
    said["callback_unavailable.number"] = env.get_template("_web/ivr/callback_unavailable.txt").render(
        reason="number", **common)
    return {f"{tag}/phone-line/{name}.txt": text.strip() + "\n" for name, text in said.items()}


def write_gallery(settings: Settings, folder: Path) -> list[Path]:
    """Write the gallery under `folder`, removing files no longer in it; returns the files written."""
    files = render_gallery(settings)
    written = []
    for relative, text in sorted(files.items()):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in folder.rglob("*"):
        if stale.is_file() and stale.relative_to(folder).as_posix() not in files and stale.name != "README.md":
            stale.unlink()
    return written


def stale_files(settings: Settings, folder: Path) -> list[str]:
    """The gallery's files that differ from what the templates and catalogs say now, are missing,
    or are no longer in it (relative paths, sorted): empty when the gallery is current."""
    files = render_gallery(settings)
    on_disk = {path.relative_to(folder).as_posix(): path for path in folder.rglob("*")
               if path.is_file() and path.name != "README.md"} if folder.is_dir() else {}
    differ = [name for name, text in files.items()
              if name not in on_disk or on_disk[name].read_text(encoding="utf-8") != text]
    return sorted(differ + [name for name in on_disk if name not in files])
