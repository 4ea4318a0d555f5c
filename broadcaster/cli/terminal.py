"""Where the commands write: a rich console that stops quietly when its reader goes away.

`broadcaster preview 1 | head` closes the pipe after ten lines; the next write fails with EPIPE.
Rich's console then exits 1 (a failure, to `set -o pipefail` and to anyone reading `$?`) and a plain
write raises BrokenPipeError (a traceback). Other Unix tools are ended by SIGPIPE there, which a shell
reports as 141: so does this."""

import os
import sys
from typing import NoReturn

from rich.console import Console

READER_GONE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head`'s `yes`


def reader_gone() -> NoReturn:
    """Exit as a tool whose reader closed the pipe. stdout is pointed at /dev/null first: Python
    flushes it at exit, and that flush would fail again ("Exception ignored ... BrokenPipeError")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(READER_GONE)


class Terminal(Console):
    def on_broken_pipe(self) -> None:  # rich >= 13.4 calls this on EPIPE; older ones raise to main()
        reader_gone()
