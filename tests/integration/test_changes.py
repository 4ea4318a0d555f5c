"""What a version changes since the live one, as the approval pages and the API's previews show it:
a first version says it is the first; the next says which fields changed, word by word, and which
channels; a draft in the editor is compared with the version live now."""

from broadcaster.approvals import decisions
from broadcaster.incidents import drafting, publishing, statements
from broadcaster.incidents.statements import StatementInput
from tests.conftest import actor, add_user


def test_a_first_version_is_the_first_and_the_next_says_what_changed(settings):
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    v1 = statements.draft(settings, alice, incident["id"], StatementInput(
        headline="Some customers cannot log in", body="About 1 in 5 logins fail.", next_update="30m"))
    assert statements.preview(settings, v1["id"])["changes"]["first"] is True
    statements.submit(settings, alice, v1["id"])
    decisions.approve(settings, actor(settings, "bob"), v1["id"])
    publishing.publish(settings, alice, v1["id"], dispatch=lambda *_args, **_kw: None)

    v2 = statements.draft(settings, alice, incident["id"], StatementInput(
        status="identified", body="About 1 in 3 logins fail.", next_update="30m"))
    changes = statements.preview(settings, v2["id"])["changes"]
    assert changes["first"] is False and changes["live"]["version"] == 1
    fields = {f["field"]: f for f in changes["fields"]}
    assert fields["status"]["before"] == "investigating" and fields["status"]["after"] == "identified"
    assert ["out", "5"] in fields["body"]["diff"] and ["in", "3"] in fields["body"]["diff"]
    assert "headline" not in fields  # unchanged
    assert {"sms", "email", "x", "status_page"} <= set(changes["summary"]["channels"])
    sms = changes["channels"]["sms"]["fields"]["text"]
    assert ["out", "Investigating"] in sms and ["in", "Identified"] in sms
    assert "body_html" not in changes["channels"]["email"]["fields"]  # its text twin carries the words

    # The editor's unsaved words are compared with the live version too.
    typed = drafting.preview_draft(settings, incident["id"], StatementInput(headline="Logins fail"))
    assert typed["changes"]["live"]["version"] == 1
    assert [f["field"] for f in typed["changes"]["fields"]][:1] == ["headline"]
