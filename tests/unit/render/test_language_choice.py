"""Which language a reader gets: the installation's language for a page (`negotiate`), and a
statement's own language or one of its translations for a recipient (`words_language`)."""

import pytest

from broadcaster.render.languages import negotiate, words_language


@pytest.mark.parametrize(("wanted", "found"), [
    (["es"], "es"), (["es-MX"], "es"), (["ES"], "es"), (["es_mx"], "es"), (["pt-br"], "pt-BR"),
    (["PT_BR"], "pt-BR"), (["pt"], "pt-BR"), (["pt-PT"], "pt-BR"), (["fr", "es"], "es"), (["fr"], "en"),
    (["*", ""], "en"), ([], "en"),
])
def test_a_reader_gets_the_nearest_language_offered_whatever_the_case(wanted, found):
    assert negotiate(wanted, ["en", "es", "pt-BR"], "en") == found


@pytest.mark.parametrize(("reader", "gets"), [
    ("es", "es"), ("es-MX", "es"), ("ES", "es"), ("ja", "ja"),
    ("fr", "en"),  # no French translation: the statement's own words
    ("en-GB", "en"), (None, "en"), ("", "en"),
    ("ja-JP", "ja"),
])
def test_a_recipient_gets_their_translation_or_the_statements_own_language(reader, gets):
    assert words_language(reader, "en", ("es", "ja")) == gets


def test_a_statement_in_one_language_is_said_in_it_to_everyone():
    assert words_language("es", "en", ()) == "en"
    assert words_language("en", "es", ("en",)) == "en"  # a Spanish statement translated into English
    assert words_language("es-AR", "es", ("en",)) == "es"
