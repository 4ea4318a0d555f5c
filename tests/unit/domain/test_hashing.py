from hypothesis import given
from hypothesis import strategies as st

from broadcaster.domain.hashing import canonical_json, content_hash

FIELDS = {
    "incident_id": 1, "incident_title": "Login failures", "version": 1, "status": "investigating",
    "impact": "major", "components": ["Login", "API"], "headline": "Some customers cannot log in",
    "body": "We are investigating.", "workaround": "Use the app.", "next_update_at": "2026-11-23T14:30:00+00:00",
}
RENDITIONS = {"sms": {"text": "Example Co: Some customers cannot log in."},
              "banner": {"text": "x", "severity": "major"}}

text = st.text(max_size=200)
statements = st.fixed_dictionaries({
    "incident_id": st.integers(1, 10**6), "incident_title": text, "version": st.integers(1, 1000),
    "status": st.sampled_from(["investigating", "identified", "monitoring", "resolved"]),
    "impact": st.sampled_from(["none", "minor", "major", "critical"]),
    "components": st.lists(text, max_size=4), "headline": text, "body": text, "workaround": text,
    "next_update_at": st.none() | st.datetimes().map(lambda d: d.isoformat()),
})
renditions = st.dictionaries(st.sampled_from(["sms", "x", "email", "ivr"]), st.dictionaries(text, text, max_size=3))


def test_hash_is_the_same_in_every_run_and_on_every_machine():
    # Pinned: if this changes, every stored approval in every database would be void.
    assert content_hash(FIELDS, RENDITIONS) == "908506bb4437bb7cf74075416171ae310c4c74e5ee959b999d02da725d515058"


@given(statements, renditions)
def test_hash_does_not_depend_on_key_order(fields, rends):
    reordered = dict(reversed(list(fields.items())))
    assert content_hash(fields, rends) == content_hash(reordered, dict(reversed(list(rends.items()))))


@given(statements, renditions, st.data())
def test_any_change_to_a_statement_field_changes_the_hash(fields, rends, data):
    key = data.draw(st.sampled_from(sorted(fields)))
    new_value = data.draw(statements)[key]
    changed = {**fields, key: new_value}
    assert (content_hash(changed, rends) == content_hash(fields, rends)) == (new_value == fields[key])


@given(statements, renditions, text, text)
def test_any_change_to_a_rendition_changes_the_hash(fields, rends, field, value):
    changed = {**rends, "sms": {**rends.get("sms", {}), field: value}}
    assert (content_hash(fields, changed) == content_hash(fields, rends)) == (changed == rends)


def test_one_character_changes_the_hash():
    assert content_hash({**FIELDS, "body": FIELDS["body"] + " "}, RENDITIONS) != content_hash(FIELDS, RENDITIONS)


def test_canonical_form_is_compact_sorted_utf8():
    assert canonical_json({"b": "é", "a": [1, 2]}) == '{"a":[1,2],"b":"é"}'.encode()
