"""The README's five-minute tour, run literally: its shell blocks, in order, pasted into bash as a
newcomer would (with `set -e`, so any command that fails stops it), on the embedded defaults (no
BROADCASTER_* variable, no .env, no services), with the installed `broadcaster` on PATH. It must end
with `broadcaster audit` exiting 0, and show what it says it shows. If the README changes, this
test follows it: it reads the blocks from the file."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOUR_HEADING = "## A five-minute tour"


def tour_blocks(readme: str) -> list[str]:
    """The ```sh blocks of the tour's section, in order."""
    assert TOUR_HEADING in readme, f"README.md has no '{TOUR_HEADING}' section"
    section = readme.split(TOUR_HEADING, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```", section, re.S | re.M)


def commands(block: str) -> list[str]:
    """The block's commands, continuation lines joined, comments dropped."""
    joined = block.replace("\\\n", " ")
    return [line.split("  #", 1)[0].strip() for line in joined.splitlines() if line.strip()]


def newcomer_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's `broadcaster`
    env["TMPDIR"] = str(tmp_path)  # the tour's `mktemp -d` lands in this test's folder
    env["COLUMNS"] = "200"
    return env


def test_the_tour_is_a_few_blocks_that_end_with_the_audit():
    blocks = tour_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    every = [c for block in blocks for c in commands(block)]
    assert every[-1] == "broadcaster audit"
    assert not any("webhook_url=" in c for c in every), "a webhook subscriber would send real HTTP"
    approve = next(c for c in every if c.startswith("broadcaster approve"))
    assert '--hash "$HASH"' in approve, "the approver approves the hash they were shown, not a made-up one"


def test_the_readme_tour_run_literally_ends_with_a_clean_audit(tmp_path):
    script = "set -euo pipefail\n" + "\n".join(tour_blocks((ROOT / "README.md").read_text(encoding="utf-8")))
    env = newcomer_env(tmp_path)
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    said = f"stdout:\n{run.stdout[-4000:]}\nstderr:\n{run.stderr[-2000:]}"
    assert run.returncode == 0, said
    assert "all channels current" in run.stdout, said

    submitted = re.search(r"statement 1 submitted: content hash ([0-9a-f]{12})", run.stdout)
    assert submitted, said
    assert f"statement 1: approval 1 of 1 for {submitted.group(1)} (approved)" in run.stdout, said

    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]  # where the tour's `cd "$(mktemp -d)"` went
    assert (folder / "broadcaster.db").exists() and (folder / ".broadcaster-secret").exists()
    log = subprocess.run(["broadcaster", "log", "--statement", "1", "--json"], cwd=folder, env=env,
                         capture_output=True, text=True, timeout=60)
    assert log.returncode == 0, log.stderr
    final = {e["channel"]: e["status"] for e in json.loads(log.stdout)}  # the last event of each channel
    assert final == {"banner": "sent", "status_page": "sent", "ivr": "sent", "agent": "sent",
                     "x": "simulated", "email": "simulated", "sms": "simulated",
                     "slack": "simulated", "teams": "simulated", "zendesk": "simulated"}
    audit = subprocess.run(["broadcaster", "audit"], cwd=folder, env=env, capture_output=True, text=True, timeout=60)
    assert audit.returncode == 0, audit.stdout + audit.stderr
