"""The `broadcaster` command tree as the tests walk it: the help and the `--as` checks read every command."""

import typer

from broadcaster.cli import app


def every_command(group=None, words: tuple[str, ...] = ()):
    """(words, command) for the app, every group and every command under it, each group before its own."""
    group = group or typer.main.get_command(app)
    yield words, group
    for name, command in getattr(group, "commands", {}).items():
        yield from every_command(command, (*words, name))


def leaf_commands():
    """("statement draft", command) for every command that runs (no group)."""
    return [(" ".join(words), command) for words, command in every_command() if not hasattr(command, "commands")]
