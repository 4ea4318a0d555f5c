"""The reference's example answers are the app's: scripts/api_examples.json is what every example
request gets now, on a small installation (regenerate it with `python scripts/api_examples.py`)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_shows_what_the_app_answers_for_every_operation():
    sys.path[:0] = [str(ROOT / "scripts")]
    try:
        import api_examples

        now = api_examples.current()
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert len(now) >= 49 and all(status < 500 for status, _ in now.values())
    assert sum(200 <= status < 300 for status, _ in now.values()) >= 35  # examples that act, not refusals
    assert api_examples.as_json(now) == api_examples.KEPT.read_text(), \
        "stale: run `python scripts/api_examples.py` and `python scripts/docs.py`"
