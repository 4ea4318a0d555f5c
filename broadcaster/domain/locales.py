"""Language tags as the installation, URLs and subscriber rows write them ('es', 'pt-BR'), and the
CLDR locale behind each (Babel): what every format and plural rule is read from."""

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from .errors import InvalidInput


@lru_cache(maxsize=64)
def cldr(tag: str) -> Locale:
    """Babel's locale for a language tag as settings and browsers write it ('es', 'es-MX', 'pt_BR')."""
    return Locale.parse(tag.replace("-", "_"))


def normalise_tag(tag: str, what: str = "locale") -> str:
    """'ES', 'es_mx', 'es-MX' → 'es', 'es-MX'. InvalidInput for anything CLDR does not know, naming it."""
    cleaned = str(tag).strip().replace("_", "-")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}", cleaned):
        raise InvalidInput(f"{what}: {tag!r} is not a language tag like 'es' or 'pt-BR'")
    try:
        locale = cldr(cleaned)
    except (UnknownLocaleError, ValueError):
        raise InvalidInput(f"{what}: {tag!r} is not a language CLDR knows") from None
    return "-".join(filter(None, (locale.language, locale.script, locale.territory)))


def plural_category(count: int, tag: str = "en") -> str:
    """CLDR's plural category of a count in a language: 'one', 'few', 'other'..."""
    return cldr(tag).plural_form(count)
