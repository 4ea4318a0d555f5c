import pytest

from broadcaster.channels import check_limits
from broadcaster.channels.ivr import check_ivr, spoken_seconds
from broadcaster.channels.sms import check_sms, sms_encoding
from broadcaster.channels.x import check_x
from broadcaster.config import PROJECT_ROOT, Settings
from broadcaster.render import render_statement
from tests.unit.render.test_templates import context

SETTINGS = Settings(_env_file=None)


def sms(text):
    """The segment check."""
    return next(check_sms({"text": text}, SETTINGS))


def test_plain_text_is_gsm7_with_160_characters_a_segment():
    assert (sms("a" * 160).measured, sms("a" * 161).measured) == (1, 2)
    assert sms_encoding("Hello [world] €") == ("GSM-7", None)


def test_gsm7_extension_characters_count_twice():
    assert sms("€" * 80).measured == 1
    assert sms("€" * 81).measured == 2


def test_an_emoji_in_the_headline_flips_sms_to_ucs2_and_counts_segments_right():
    rendered = render_statement(PROJECT_ROOT / "templates", context(headline="Login is down 🔥", workaround=""))
    text = rendered["sms"]["text"]
    check = next(c for c in check_limits(rendered, SETTINGS) if c.channel == "sms")
    assert sms_encoding(text) == ("UCS-2", "🔥")
    # UCS-2: 70 code units in one segment, 67 per segment when split; the emoji takes two.
    units = len(text.encode("utf-16-be")) // 2
    assert units > 70
    assert check.measured == -(-units // 67)
    assert "UCS-2 because of '🔥' (U+1F525)" in check.detail


def test_ucs2_boundaries():
    assert sms("é" * 10 + "ж" * 60).measured == 1  # 70 units
    assert sms("ж" * 71).measured == 2
    assert sms("😀" * 35).measured == 1  # 35 emoji = 70 units
    assert sms("😀" * 36).measured == 2


def test_a_300_character_headline_fails_x_and_sms_with_the_measured_lengths():
    headline = "H" * 300
    rendered = render_statement(PROJECT_ROOT / "templates", context(headline=headline))
    broken = {c.channel: c for c in check_limits(rendered, SETTINGS) if not c.ok}
    assert set(broken) >= {"x", "sms"}
    x_len = len(rendered["x"]["text"]) - len("https://status.example.com") + 23
    assert broken["x"].measured == x_len
    assert broken["x"].describe() == (f"x: weighted length is {x_len} characters, limit 280, over by {x_len - 280} "
                                      "(URLs count 23, CJK and emoji count 2)")
    sms_len = len(rendered["sms"]["text"])
    assert broken["sms"].measured == sms_len
    assert broken["sms"].describe() == f"sms: length is {sms_len} characters, limit 320, over by {sms_len - 320} " \
                                       "(carriers may filter longer texts)"


def test_x_counts_urls_as_23_and_cjk_as_two():
    assert next(check_x({"text": "https://example.com/" + "a" * 100}, SETTINGS)).measured == 23
    assert next(check_x({"text": "日本語"}, SETTINGS)).measured == 6


def test_ivr_length_is_estimated_from_words_per_minute():
    assert spoken_seconds("one two three four five", 150) == 2.0
    long_script = "word " * 150
    check = next(check_ivr({"script": long_script}, Settings(_env_file=None, ivr_words_per_minute=100)))
    assert (check.measured, check.ok, check.excess) == (90.0, False, 45.0)


@pytest.mark.parametrize(("subject_len", "ok"), [(78, True), (79, False)])
def test_email_subject_length(subject_len, ok):
    rendered = {"email": {"subject": "s" * subject_len, "body_text": "", "body_html": ""}}
    (check,) = check_limits(rendered, SETTINGS)
    assert check.ok is ok


def test_ivr_script_must_fit_one_say_of_the_configured_voice():
    token = "x" * 3500  # one "word": words per minute cannot see it, the engine's length limit can
    polly = {c.name: c for c in check_ivr({"script": token}, Settings(_env_file=None, ivr_voice="Polly.Joanna"))}
    assert not polly["text-to-speech length"].ok and polly["text-to-speech length"].limit == 3000
    assert polly["spoken length"].ok
    basic = {c.name: c for c in check_ivr({"script": token}, Settings(_env_file=None, ivr_voice="woman"))}
    assert basic["text-to-speech length"].ok and basic["text-to-speech length"].limit == 4096
