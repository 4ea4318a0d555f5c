"""`broadcaster demo` shows the commands a reader can paste: each echoed line, run as typed on a
database of its own, says what the demo said after it. A second run starts clean, and a file the
demo did not make is never replaced."""

import re
import shlex
import sqlite3

import pytest

from tests.integration.test_cli import run  # noqa: F401 - the fixture: `broadcaster ...` in this process

HASH = re.compile(r"\b[0-9a-f]{12}\b")  # a content hash as the CLI shows it


def unhashed(lines: list[str]) -> list[str]:
    return [HASH.sub("<hash>", line).strip() for line in lines]


def steps(stdout: str) -> list[tuple[list[str], list[str]]]:
    """Each echoed command (its argv after `broadcaster`) and the lines the demo printed after it."""
    found: list[tuple[list[str], list[str]]] = []
    for line in stdout.splitlines():
        if line.startswith("$ broadcaster "):
            found.append((shlex.split(line)[2:], []))
        elif found:
            found[-1][1].append(line)
    return found


@pytest.mark.parametrize("backend", ["sqlite"])  # the demo's database is always SQLite; the replay's too
def test_a_second_demo_starts_clean_and_its_commands_say_the_same_when_typed(run, tmp_path):  # noqa: F811
    run("demo")
    again = run("demo").stdout
    assert "the earlier demo's was removed" in again
    with sqlite3.connect(tmp_path / "broadcaster-demo.db") as db:  # one incident, not one per run
        assert db.execute("SELECT count(*) FROM incidents").fetchone() == (1,)
        assert [name for (name,) in db.execute("SELECT name FROM users ORDER BY id")] == ["root", "alice", "bob"]

    echoed = steps(again)
    assert [argv[0] for argv, _ in echoed] == [
        "user", "user", "user", "subscribers", "incident", "statement", "preview", "submit", "approve", "publish",
        "audit"]
    assert ["--component", "Login", "--component", "API"] == echoed[4][0][-6:-2]  # what the demo opened
    run("init")  # the README's tour starts with it; the demo migrates its own file instead
    for argv, said in echoed:
        if argv[0] == "approve":  # its words name a next-update time: this database's hash is of its own minute
            argv[argv.index("--hash") + 1] = run("preview", argv[1], "--hash").stdout.strip()
        typed = run(*argv).stdout.splitlines()
        # Panels and tables (preview, publish, audit) are held to their first line, the rest to every line.
        shown = said[:1] if argv[0] in ("preview", "publish", "audit") else said
        assert unhashed(typed[:len(shown)]) == unhashed(shown), argv
    assert "all channels current" in typed[-1]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("content", [b"notes, not a database\n", None], ids=["text", "another-sqlite-database"])
def test_the_demo_never_replaces_a_file_it_did_not_make(run, tmp_path, content):  # noqa: F811
    mine = tmp_path / "mine.db"
    if content is None:
        with sqlite3.connect(mine) as db:
            db.execute("CREATE TABLE kept (x)")
    else:
        mine.write_bytes(content)
    before = mine.read_bytes()
    refused = run("demo", "--database", str(mine), ok=False)
    assert refused.returncode == 1
    assert "is not a database `broadcaster demo` made: it is left as it is" in refused.stderr
    assert mine.read_bytes() == before
