"""A postmortem's states."""

from enum import StrEnum


class PostmortemState(StrEnum):
    DRAFT = "draft"  # written, editable; approvals count only for the content they saw
    APPROVED = "approved"  # every approval it needs, for its current content
    PUBLISHED = "published"  # on the page, the feeds and the JSON; emailed; never changed again
