"""The OpenAPI document is the behaviour: Schemathesis's command line, every check (`--checks all`),
every phase including the stateful one that follows the document's links (open an incident → draft
→ submit → approve → publish → the send log), against the app served on a loopback port, as an
integrator would run it, every operation and every phase (the coverage phase too); 0 failures.

One allowance, named here (`ALLOWANCE`): some rules JSON Schema cannot state, each refused with 422
and a problem naming the field: adding a subscriber or a user checks a phone number's validity for its
country (phonenumbers) and an email's domain (email-validator refuses reserved names); a proposed
reply's length is as X weighs it (URLs 23, CJK and emoji 2); a statement's `component_states` may name
only the statement's own components (a rule across two fields); a stakeholder needs an email address or
a phone number (valid ones, as for subscribers), and an audience's and a member's names are unique; an
event endpoint's URL may be http:// only to this machine, and never a private address by its IP. For
those operations alone a 422 to a schema-valid request is expected; every other operation must accept
what its schema allows.

The alert and statement-template operations are in the run too. Their rules the schema states (a
source's name as in its URL, its kind, the secret only PagerDuty's takes; impacts; a template's
next-update interval; the placeholders a statement may be given values for; both-or-neither of a rule's
holding statement and wait; the character rules); a name already taken is a conflict (409). What it
cannot state joins the allowance: a rule names a template, a source and people that exist and a
holding statement ready to switch on; rotating a source's credential takes a secret exactly when the
stored source is PagerDuty's; a template's words may name only known `{placeholders}`, its interval is
from 1 minute to 7 days, `{next_update}` needs one, a translation has a workaround exactly when the
template has; starting a statement from a template needs a value for each placeholder its words name,
and the filled words must fit a statement's limits.

Four runs, each its own test so xdist runs them side by side: fuzzing and stateful over every
operation (a few examples each), the coverage phase (every boundary of every field, every
unexpected method, ~4,800 cases) split in two halves by tag, and the stateful phase again on the
statement's life alone with more scenarios (it covers 3 of its 18 links at seed 1). The plain command an integrator runs
(`st run URL/openapi.json -H "Authorization: Bearer ..." --checks all`, every phase, every operation,
default examples) and its result are in docs/guides/api.md.
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import make_settings
from tests.fakes.x_server import x_settings
from tests.integration.api_fixtures import copy_of, seed, seed_alerts
from tests.integration.api_server import serving

SECONDS = 420  # each run: 23-53 s of CPU; 98-192 s of wall at a load average of 12 (several sessions sharing 2 cores)
# The coverage phase in two halves of about equal CPU: the statement's life and what hangs off it (the
# largest bodies), social replies and templates; then every other tag (so the halves are every operation).
LIFE = ["statements", "incidents", "postmortems", "holding statements", "deliveries", "social replies",
        "statement templates"]
RUNS = {
    "fuzzing and stateful": ["--phases", "fuzzing,stateful", "--max-examples", "5"],
    "coverage of the statement's life": ["--phases", "coverage", *(a for tag in LIFE for a in ("--include-tag", tag))],
    "coverage of the rest": ["--phases", "coverage", *(a for tag in LIFE for a in ("--exclude-tag", tag))],
    # The stateful phase again, on the statement's life alone and with more scenarios, so that it walks the
    # links (open → draft → submit → approve → publish → send log) instead of stopping at the first random body.
    "the statement's life, followed by its links": [
        "--phases", "stateful", "--max-examples", "40",
        *(a for op in ("open_incident", "get_incident", "draft", "get_statement", "submit", "approve",
                       "publish_statement", "send_log", "fan_out_progress") for a in ("--include-operation-id", op))],
}
LINKS_RUN = "the statement's life, followed by its links"
# A 422 to a schema-valid request is expected only from these (the allowance above).
ALLOWANCE = ["add_subscriber", "add_user", "propose", "draft", "edit", "preview_draft", "create_audience", "add_member",
             "add_event_endpoint", "add_rule", "change_rule", "rotate_source", "add_template", "change_template",
             "start_statement"]


@pytest.mark.parametrize("run", RUNS)
def test_schemathesis_finds_no_failure_with_every_check(run, tmp_path, sqlite_template, x):
    import shutil

    shutil.copy(sqlite_template, tmp_path / "template.db")
    # The rate limit lifted: the run is to reach the logic behind every operation, not the limiter
    # (test_api_conventions.py checks that); at 600 a minute most cases would be answered 429.
    settings = make_settings(copy_of(tmp_path / "template.db", tmp_path), api_rate="1000000/minute",
                             **x_settings(x))
    seeded = seed(settings)
    seed_alerts(settings)
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'''
headers = {{ Authorization = "Bearer {seeded.tokens["admin"]}" }}
[[operations]]
include-operation-id = ["approve", "reject", "approve_text", "proposals"]
headers = {{ Authorization = "Bearer {seeded.tokens["approver"]}" }}
[[operations]]
include-operation-id = ["reply", "skip", "propose", "pull", "search", "inbox", "replies", "variants", "budget"]
headers = {{ Authorization = "Bearer {seeded.tokens["social"]}" }}
[[operations]]
include-operation-id = {json.dumps(ALLOWANCE)}
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
''')
    with serving(settings, dispatch=lambda settings_, ids: None) as url:
        started, before = time.monotonic(), os.times()
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
                   f"{url}/openapi.json", "--checks", "all", *RUNS[run], "--seed", "1", "--no-color",
                   "--suppress-health-check", "all"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        took, after = time.monotonic() - started, os.times()
    report = done.stdout + done.stderr
    cpu = sum(after[:4]) - sum(before[:4])  # this process (the server) and Schemathesis's
    print(f"{run}: {took:.1f} s wall, {cpu:.1f} s CPU")  # what `pytest -s` shows, for measuring
    assert done.returncode == 0, report[-6000:]
    if run == LINKS_RUN:
        # The walk gets as far as its random bodies let it: at seed 1, 3 of the 18 links (a new incident's
        # draft and reads); a version Schemathesis drafts rarely passes submit's limit checks, so approve,
        # publish and the send log are seldom reached this way (test_generated_client walks them all).
        links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", report)
        assert links and int(links[1]) >= 3, report[-3000:]
    else:
        selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", report)
        assert selected and selected[1] == selected[3], report[-3000:]  # every selected operation was tested
    for phase in RUNS[run][1].split(","):
        assert f"✅ {phase.capitalize()}" in report, report[-3000:]
    assert took < SECONDS, f"Schemathesis took {took:.0f} s"
