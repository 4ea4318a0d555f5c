"""The vocabulary of stakeholder audiences."""

from enum import StrEnum


class SendsOn(StrEnum):
    """Which versions an audience hears."""

    EVERY = "every"  # every published version
    OPEN_AND_RESOLVE = "open_and_resolve"  # the incident's first version and its resolution only


EMAIL_CHANNEL = "stakeholder_email"
SMS_CHANNEL = "stakeholder_sms"
