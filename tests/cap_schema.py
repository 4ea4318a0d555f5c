"""The official OASIS CAP 1.2 XML schema (tests/schemas/cap/, see its NOTICE.md), for tests that
validate CAP documents with xmlschema."""

from functools import cache
from pathlib import Path

SCHEMA = Path(__file__).parent / "schemas" / "cap" / "CAP-v1.2.xsd"


@cache
def cap_schema():
    import xmlschema

    return xmlschema.XMLSchema(SCHEMA)


def validate_cap(document: bytes) -> None:
    """Raise xmlschema's validation error naming the element if `document` is not valid CAP 1.2."""
    cap_schema().validate(document.decode("utf-8"))
