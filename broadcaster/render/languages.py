"""The installation's languages: the gettext catalogs that word the templates' fixed phrases
("Next update by", "What you can do now"), which way a language is written, and how a reader's
language is chosen among those the installation speaks.

Catalogs are plain `.po` files under ``templates/locale/<locale>/LC_MESSAGES/``: ``messages.po``
ships with Broadcaster, ``overrides.po`` beside it (optional) is the installation's own wording
and wins message by message. They are compiled with Babel when first used, so editing a `.po`
file needs no build step (a restart reloads it). A phrase with no translation in a catalog is said
in English, the templates' own words. Dates, times, durations, lists and plurals are CLDR's
(domain/clock.py, Babel), never assembled by hand.
"""

import io
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from ..config import Settings
from ..domain.errors import InvalidInput
from ..domain.locales import cldr

CATALOGS = "locale"  # under the templates folder
DOMAIN = "messages"
OVERRIDES = "overrides"

# What TwiML's <Say language> is for a language given without a region, and a voice that speaks it
# (Twilio's Amazon Polly voices). A tag with a region ('es-MX') is its own TwiML language.
SPEECH = {
    "en": ("en-US", "Polly.Joanna"), "es": ("es-US", "Polly.Lupe"), "fr": ("fr-FR", "Polly.Lea"),
    "de": ("de-DE", "Polly.Vicki"), "it": ("it-IT", "Polly.Bianca"), "pt": ("pt-BR", "Polly.Camila"),
    "nl": ("nl-NL", "Polly.Laura"), "ja": ("ja-JP", "Polly.Mizuki"), "ko": ("ko-KR", "Polly.Seoyeon"),
    "zh": ("cmn-CN", "Polly.Zhiyu"), "ar": ("arb", "Polly.Zeina"), "pl": ("pl-PL", "Polly.Ewa"),
    "tr": ("tr-TR", "Polly.Filiz"), "sv": ("sv-SE", "Polly.Astrid"), "da": ("da-DK", "Polly.Naja"),
    "nb": ("nb-NO", "Polly.Liv"), "ru": ("ru-RU", "Polly.Tatyana"), "hi": ("hi-IN", "Polly.Aditi"),
}


def catalog_folder(templates_dir: Path, tag: str) -> Path:
    return templates_dir / CATALOGS / tag.replace("-", "_") / "LC_MESSAGES"


def has_catalog(templates_dir: Path, tag: str) -> bool:
    return (catalog_folder(templates_dir, tag) / f"{DOMAIN}.po").is_file()


@lru_cache(maxsize=64)
def translations(templates_dir: Path, tag: str) -> NullTranslations:
    """The compiled catalog of one language, its overrides merged over it; the English phrases of
    the templates themselves when the language has no catalog."""
    folder = catalog_folder(templates_dir, tag)
    found: Translations | None = None
    for name in (DOMAIN, OVERRIDES):
        path = folder / f"{name}.po"
        if not path.is_file():
            continue
        compiled = _compile(path, tag)
        if found is None:
            found = compiled
        else:
            found.merge(compiled)  # the installation's own words win
    return found or NullTranslations()


def _compile(path: Path, tag: str) -> Translations:
    with path.open("rb") as source:
        try:
            catalog = read_po(source, locale=tag.replace("-", "_"), domain=DOMAIN)
        except Exception as exc:  # babel raises its own PoFileError, or ValueError on a bad header
            raise InvalidInput(f"{path}: not a catalog Babel can read: {exc}") from None
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: a guess is not a translation
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def direction(tag: str) -> str:
    """'rtl' for a language written right to left (Arabic, Hebrew, Persian, Urdu...), else 'ltr'."""
    return "rtl" if cldr(tag).character_order == "right-to-left" else "ltr"


def language_name(tag: str) -> str:
    """The language's name in itself: 'español', '日本語' (what a language menu shows)."""
    locale = cldr(tag)
    return locale.get_display_name(locale) or tag


def speech(tag: str, voices: dict[str, str], languages: dict[str, str]) -> tuple[str, str]:
    """(TwiML language, voice) for a language: the settings' own, else SPEECH's."""
    base = tag.split("-")[0]
    default_language, default_voice = SPEECH.get(base, (tag, ""))
    language = languages.get(tag) or (tag if "-" in tag else default_language)
    return language, voices.get(tag) or voices.get(base) or default_voice


def ivr_speech(settings: Settings, locale: str) -> tuple[str, str]:
    """(TwiML language, voice) the phone line speaks `locale` in: the default language's from
    BROADCASTER_IVR_LANGUAGE and _IVR_VOICE, the others' from _IVR_LANGUAGES and _IVR_VOICES or SPEECH."""
    if locale == settings.default_locale:
        return settings.ivr_language, settings.ivr_voice
    return speech(locale, settings.ivr_voices, settings.ivr_languages)


def negotiate(wanted: Iterable[str], offered: Sequence[str], default: str) -> str:
    """The first wanted language the installation offers ('es-MX' finds 'es', 'PT-br' finds 'pt-BR',
    and 'pt' or 'pt-PT' finds 'pt-BR' when that is the Portuguese offered: the same language from
    another region reads better than another language), else the default."""
    available = [tag.replace("-", "_") for tag in offered]
    # Babel matches without regard to case and answers with the tag as it was asked for: found again
    # here the same way, so a reader's 'ES' is the installation's 'es', never an error.
    lowered = [tag.lower() for tag in available]
    bases = [tag.split("_")[0] for tag in lowered]
    for tag in wanted:
        clean = tag.strip().replace("-", "_")
        if not clean or clean == "*":
            continue
        found = negotiate_locale([clean, clean.split("_")[0]], available, sep="_")
        if found:
            return offered[lowered.index(found.lower())]
        if clean.split("_")[0].lower() in bases:
            return offered[bases.index(clean.split("_")[0].lower())]
    return default


@lru_cache(maxsize=4096)
def words_language(wanted: str | None, own: str, translated: tuple[str, ...]) -> str:
    """The language a reader of `wanted` gets a statement in: the statement's own language (`own`) or
    one of its translations, whichever fits (a reader of 'es-MX' gets 'es'); the statement's own when
    none does, or when the reader's language is unknown. Asked once per language, never per message."""
    if not wanted or not translated:
        return own
    return negotiate([wanted], (own, *translated), own)


def accept_language(header: str | None, most: int = 20) -> list[str]:
    """The languages of an Accept-Language header, the most wanted first (at most `most` of them:
    a header is bounded input like any other)."""
    ranked = []
    for position, part in enumerate((header or "")[:1000].split(",")[:most]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]
