"""The content hash: what an approval is bound to.

SHA-256 over a canonical JSON form of the statement's fields and every channel
rendition, in every language. Canonical means: keys sorted, no insignificant whitespace,
UTF-8, so the same content gives the same hash on any machine, in any run.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def sha256_hex(value: str) -> str:
    """The SHA-256 of a secret as stored (a token, a link's nonce, a code): never the secret itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def content_hash(statement_fields: Mapping[str, Any], renditions: Mapping[str, Mapping[str, Any]],
                 translated: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None) -> str:
    """One hash over the fields, the renditions and every translated rendition ({locale: {channel:
    fields}}): editing any language voids the approval of all. A statement in one language hashes
    as it did before translations existed, so its approvals still verify."""
    content: dict[str, Any] = {"statement": statement_fields, "renditions": renditions}
    if translated:
        content["translated_renditions"] = translated
    return sha256_of(content)
