"""Email addresses, phone numbers and web addresses, checked and normalised (by the libraries that know
them, where there is one).

The libraries are imported by the functions that use them: the settings check their web addresses
here at every start of every process, and a command that validates no email or phone number should
not load their tables of rules (about 50 ms of a CLI command's start)."""

from urllib.parse import urlsplit, urlunsplit

from .errors import InvalidInput

# A Slack member id (`U0123ABCD`; `W...` on Enterprise Grid): what the users table, the API and the forms accept.
SLACK_USER_ID_PATTERN = r"^[UW][A-Z0-9]{8,19}$"


def normalise_email(value: str, field: str = "email") -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{field}: {value!r} is not a valid email address: {exc}") from None


def normalise_phone(value: str, field: str = "phone", default_region: str | None = None) -> str:
    """E.164 (+14155550100). Without a default region the number must start with +country code."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{field}: {value!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{field}: {value!r} is not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def web_address(value: str, field: str, purpose: str, site_pages: frozenset[str] | None = None) -> str:
    """A web address as people type it. Without a scheme it is https (http for this machine); it must
    be http(s) with a host, else InvalidInput naming `field` and saying what it is for (`purpose`).
    With `site_pages` (the first path segments a Broadcaster site serves) it names the site itself: a
    page of it typed instead (…/status, …/status#incident-1, …/dashboard/login) is cut back to the
    site's root, keeping a prefix the site is mounted under, with no query, fragment or final slash,
    so the links built on it (`{root}/status#incident-1`) are right."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"{field}: empty; it is {purpose}")
    if "://" not in text:
        local = text.split("/")[0].split(":")[0] in ("localhost", "127.0.0.1", "[::1]")
        text = ("http://" if local else "https://") + text
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        raise InvalidInput(f"{field}: {value!r} is not a web address such as https://example.com; it is {purpose}")
    if site_pages is None:
        return urlunsplit(parts._replace(scheme=parts.scheme.lower()))
    segments = [segment for segment in parts.path.split("/") if segment]
    for at, segment in enumerate(segments):
        if segment.lower() in site_pages:
            segments = segments[:at]
            break
    return urlunsplit((parts.scheme.lower(), parts.netloc, "/".join(["", *segments]), "", ""))
