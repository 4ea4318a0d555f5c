"""`broadcaster ... | head`: when the reader closes the pipe early, the command stops as other Unix
tools do (status 141, 128 + SIGPIPE), with nothing on stderr (it used to exit 1, or print a traceback
from a plain write)."""

import os
import shutil
import subprocess

import pytest

from broadcaster.cli.terminal import READER_GONE
from tests.harness import TEST_SECRET_KEY


@pytest.mark.parametrize("args", [["incident", "list"], ["--help"]])  # the commands' console; the help's
def test_a_reader_that_closes_early_ends_the_command_quietly(tmp_path, sqlite_template, args):
    shutil.copy(sqlite_template, tmp_path / "b.db")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")},
           "BROADCASTER_DATABASE_URL": f"sqlite:///{tmp_path}/b.db", "BROADCASTER_SECRET_KEY": TEST_SECRET_KEY}
    proc = subprocess.Popen(["broadcaster", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path)
    proc.stdout.close()  # closed before the process (a second of imports) writes its first line
    stderr = proc.stderr.read().decode()
    assert (proc.wait(timeout=60), stderr) == (READER_GONE, "")
