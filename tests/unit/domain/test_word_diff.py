"""What changed between two texts, word by word: times and numbers stay whole words, equal texts are
one unchanged piece, and the counts say how many words went in and out."""

from broadcaster.domain.word_diff import Piece, changed, counts, tokens, word_diff


def test_a_time_a_decimal_and_a_contraction_are_one_word_each():
    assert [t for t in tokens("Next update by 07:56 UTC, don't 1.5") if t.strip()] == [
        "Next", "update", "by", "07:56", "UTC", ",", "don't", "1.5"]


def test_a_changed_word_is_taken_out_and_put_in_in_reading_order():
    pieces = word_diff("About 1 in 5 logins fail.", "About 1 in 3 logins fail. We found it.")
    assert pieces == [Piece("same", "About 1 in "), Piece("out", "5"), Piece("in", "3"),
                      Piece("same", " logins fail."), Piece("in", " We found it.")]
    assert counts(pieces) == (4, 1) and changed(pieces)


def test_equal_texts_are_one_unchanged_piece_and_an_empty_one_is_all_new():
    assert word_diff("Same words.", "Same words.") == [Piece("same", "Same words.")]
    assert not changed(word_diff("Same words.", "Same words."))
    assert word_diff("", "New words") == [Piece("in", "New words")]
    assert "".join(p.text for p in word_diff("a b c", "a x c") if p.op != "out") == "a x c"


def test_a_huge_text_is_compared_whole_not_word_by_word():
    huge = "word " * 30_000
    assert word_diff(huge, huge + "more") == [Piece("out", huge), Piece("in", huge + "more")]
