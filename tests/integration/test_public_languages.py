"""The public surfaces and the phone line in the reader's language: the status page, the feeds and
banner.json by `?lang=` or Accept-Language (with hreflang links and the page's direction), and the
IVR's language menu, each language spoken with TwiML's `language`; real database, signed Twilio posts."""

import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from broadcaster.render.environment import channel_templates, environment
from broadcaster.render.languages import translations
from broadcaster.store.db import transaction
from broadcaster.store.models import CallbackRequest
from broadcaster.web.app import create_app
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.integration.surfaces_data import open_incident, publish_update

PUBLIC_URL = "https://status-admin.example.com"
TOKEN = "twilio-auth-token"
SPANISH = {"headline": "Algunos clientes no pueden iniciar sesión", "body": "Falla uno de cada cinco inicios.",
           "workaround": "Use la aplicación móvil."}


@pytest.fixture
def bilingual(database_url):
    return make_settings(database_url, locales=["es"], public_cache_seconds=0, public_url=PUBLIC_URL,
                         twilio_auth_token=TOKEN, ivr_support_hints={"es": "nuestro sitio web"})


@pytest.fixture
def live_in_spanish(bilingual):
    incident = open_incident(bilingual)
    publish_update(bilingual, incident, translations={"es": SPANISH})
    return incident


def test_the_status_page_speaks_spanish_by_lang_or_accept_language(bilingual, live_in_spanish):
    with TestClient(create_public_app(bilingual)) as client:
        english = client.get("/status").text
        by_query = client.get("/status?lang=es")
        by_header = client.get("/status", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}).text
        assert by_query.headers["vary"] == "Accept-Language"
        for page in (by_query.text, by_header):
            assert '<html lang="es" dir="ltr">' in page
            assert "Incidentes en curso" in page and "Algunos clientes no pueden iniciar sesión." in page
            assert "Próxima actualización:" in page and "Qué puede hacer ahora:" in page
            assert "Some customers cannot log in" not in page
        assert '<html lang="en" dir="ltr">' in english and "Current incidents" in english
        for page in (english, by_header):
            assert '<link rel="alternate" hreflang="es" href="https://status.example.com/status?lang=es">' in page
            assert '<link rel="alternate" hreflang="en" href="https://status.example.com/status">' in page
        # A language the installation does not speak: the default, never an error.
        assert '<html lang="en"' in client.get("/status?lang=fr", headers={"Accept-Language": "de"}).text
        # A tag in any case is the same language (Babel answers in the case it was asked: was a 500).
        assert '<html lang="es"' in client.get("/status?lang=ES").text
        assert '<html lang="es"' in client.get("/status", headers={"Accept-Language": "ES-mx"}).text
        # The Spanish page's sign-up link signs up in Spanish.
        assert 'href="https://status.example.com/subscribe?lang=es"' in by_query.text


def test_banner_and_feed_in_spanish_and_a_language_without_a_translation_falls_back(bilingual):
    incident = open_incident(bilingual)
    publish_update(bilingual, incident, translations={"es": SPANISH})
    untranslated = open_incident(bilingual, "Slow search", "critical", ("Search",))
    publish_update(bilingual, untranslated, headline="Search is slow", workaround="")
    with TestClient(create_public_app(bilingual)) as client:
        banner = client.get("/banner.json?lang=es").json()
        assert banner["incident_id"] == untranslated  # the most severe: it has no Spanish words
        assert banner["language"] == "en" and banner["text"].startswith("Investigating: Search is slow.")
        feed = client.get("/feed.atom", headers={"Accept-Language": "es"}).text
        assert "<title>Algunos clientes no pueden iniciar sesión</title>" in feed and 'xml:lang="es"' in feed
    publish_update(bilingual, untranslated, status="resolved", headline="Search is fast again", workaround="")
    with TestClient(create_public_app(bilingual)) as client:
        banner = client.get("/banner.json", headers={"Accept-Language": "es"}).json()
        assert (banner["incident_id"], banner["language"]) == (incident, "es")
        assert banner["text"].startswith("Investigando: Algunos clientes no pueden iniciar sesión.")


def test_a_right_to_left_language_gets_dir_rtl(database_url, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(bilingual_templates(), templates)
    catalog = templates / "locale" / "ar" / "LC_MESSAGES"
    catalog.mkdir(parents=True)
    (catalog / "messages.po").write_text('msgid ""\nmsgstr ""\n"Language: ar\\n"\n\nmsgid "Current incidents"\n'
                                         'msgstr "الحوادث الحالية"\n', encoding="utf-8")
    settings = make_settings(database_url, locales=["ar"], templates_dir=templates, public_cache_seconds=0)
    try:
        publish_update(settings, open_incident(settings))
        with TestClient(create_public_app(settings)) as client:
            page = client.get("/status?lang=ar").text
        assert '<html lang="ar" dir="rtl">' in page and "الحوادث الحالية" in page
        assert '<li class="update status-investigating" lang="en">' in page  # untranslated words keep their own
    finally:
        environment.cache_clear()
        channel_templates.cache_clear()
        translations.cache_clear()


def bilingual_templates():
    from broadcaster.config import PROJECT_ROOT

    return PROJECT_ROOT / "templates"


# --- the phone line --------------------------------------------------------------------------------


def signed_post(client, path: str, **form) -> ET.Element:
    form = {"CallSid": "CA" + "3" * 32, "From": "+14155550123", "To": "+18005550100", **form}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + path, form)
    answer = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200, answer.text
    return ET.fromstring(answer.content)


def test_the_ivr_offers_its_languages_and_plays_spanish_in_spanish(bilingual, live_in_spanish):
    with TestClient(create_app(bilingual)) as client:
        call = signed_post(client, "/ivr/voice")
        menu = call.find("Gather")
        assert menu.get("action") == "/ivr/language" and menu.get("numDigits") == "1"
        assert [(say.text, say.get("language"), say.get("voice")) for say in menu.iter("Say")] == [
            ("For English, press 1.", "en-US", "Polly.Joanna"), ("Para español, oprima 2.", "es-US", "Polly.Lupe")]
        assert call.findall("Say")[0].text.startswith("Thank you for calling Example Co.")  # pressing nothing

        chosen = signed_post(client, "/ivr/language", Digits="2")
        assert chosen.find("Redirect").text == "/ivr/voice?lang=es"
        spanish = signed_post(client, "/ivr/voice?lang=es")
        message = spanish.find("Say")
        assert (message.get("language"), message.get("voice")) == ("es-US", "Polly.Lupe")
        assert message.text.startswith("Gracias por llamar a Example Co.\nAlgunos clientes no pueden iniciar sesión.")
        assert "nuestro sitio web" in message.text
        gather = spanish.find("Gather")
        assert gather.get("action") == f"/ivr/gather?incident={live_in_spanish}&lang=es"
        assert gather.get("language") == "es-US"
        assert gather.find("Say").text.startswith("Para recibir un mensaje de texto en este número cuando esté "
                                                  "resuelto, oprima 1.")
        assert spanish.find("Gather") is not None and not spanish.findall("Gather/Gather")  # no second menu

        pressed = signed_post(client, f"/ivr/gather?incident={live_in_spanish}&lang=es", Digits="1")
        assert [say.text for say in pressed.iter("Say")] == [
            "Gracias. Cuando el problema esté resuelto, le enviaremos un mensaje de texto a este número. Adiós."]
        assert pressed.find("Say").get("language") == "es-US"
    with transaction(bilingual.database_url) as s:  # kept for the follow-up, in the caller's language
        assert s.execute(select(CallbackRequest.phone, CallbackRequest.locale)).all() == [("+14155550123", "es")]


def test_with_one_language_there_is_no_language_menu(database_url):
    settings = make_settings(database_url, public_cache_seconds=0, public_url=PUBLIC_URL, twilio_auth_token=TOKEN)
    publish_update(settings, open_incident(settings))
    with TestClient(create_app(settings)) as client:
        call = signed_post(client, "/ivr/voice")
        assert [g.get("action") for g in call.iter("Gather")] == ["/ivr/gather?incident=1"]
        assert json.dumps([s.text for s in call.iter("Say")]).count("press 1") == 1
