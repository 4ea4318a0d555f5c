"""The dashboard's one-line notices after a form (templates/_web/dashboard/notices.txt) say counts in
words: "1 subscriber", "2 subscribers", never "subscriber(s)"."""

from broadcaster.config import Settings
from broadcaster.web.dashboard.common import said


def test_a_published_postmortem_says_how_many_subscribers_it_was_emailed_to_in_words():
    settings = Settings(_env_file=None)
    assert said(settings, "postmortem_published", {"emailed": 1}) == "postmortem published; emailed to 1 subscriber"
    assert said(settings, "postmortem_published", {"emailed": 2}) == "postmortem published; emailed to 2 subscribers"
