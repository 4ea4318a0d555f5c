"""The secret key's file: read only if it is the owner's alone, created 0600, never the default.

The key seals approvals and signs links, so a long-running process refuses an empty or default one.
"""

from pathlib import Path
from typing import Protocol

from ..domain.errors import InvalidInput


class HasSecretKey(Protocol):
    secret_key: str

DEFAULT_SECRETS = ("", "change-me")
SECRET_ADVICE = ("run `broadcaster init` (it writes a random key to .broadcaster-secret, readable only by you) "
                 "or set BROADCASTER_SECRET_KEY to a long random value")


def read_secret_file(path: Path) -> str:
    """The key in `path` ("" if there is no such file). A file others can read is refused: the
    key is worth as much as every approval."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise InvalidInput(f"{path}: the secret key file can be read by others (mode {mode & 0o777:o}); "
                               f"make it yours alone with `chmod 600 {path}`")
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the secret key ({exc}); {SECRET_ADVICE}") from None


def require_real_secret(settings: HasSecretKey, what: str) -> None:
    """A long-running process refuses the default or an empty key: anyone who knows it could
    forge unsubscribe links and approval seals."""
    if settings.secret_key in DEFAULT_SECRETS:
        which = "empty" if not settings.secret_key else f"the default {settings.secret_key!r}"
        raise InvalidInput(f"{what}: the secret key is {which}; {SECRET_ADVICE}")


def create_secret_file(path: Path) -> bool:
    """A new random key in `path`, mode 0600 from the first byte. False if it already exists."""
    import os
    import secrets

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return True
