"""`broadcaster ... --help` read at 80 columns, the width of a default terminal, for every command:
nothing cut, no value shown for an on/off flag, and a docstring's paragraphs as paragraphs (the
source's line breaks used to show as broken sentences)."""

import re

import pytest

from broadcaster.cli import main
from broadcaster.cli.helptext import paragraphs
from tests.integration.cli_tree import every_command

COMMANDS = list(every_command())


def _help(monkeypatch, capsys, words, columns) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main([*words, "--help"])
    assert done.value.code in (0, None)
    return capsys.readouterr().out


def test_every_help_at_80_columns_shows_every_name_whole_and_no_value_for_a_flag(monkeypatch, capsys):
    cut, flags_with_a_value, missing, wide = [], [], [], []
    for words, command in COMMANDS:
        shown = _help(monkeypatch, capsys, words, 80)
        where = " ".join(words) or "broadcaster"
        cut += [where] if "…" in shown else []
        wide += [where] if max(len(line) for line in shown.splitlines()) > 80 else []
        names = [name for p in command.params for name in (*p.opts, *p.secondary_opts) if name.startswith("-")]
        names += list(getattr(command, "commands", {}))
        missing += [f"{where}: {name}" for name in names if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])",
                                                                            shown)]
        flags = [p for p in command.get_params(command.make_context(where, [], resilient_parsing=True))
                 if getattr(p, "is_flag", False)]
        for p in flags:  # the flag's line: its names and then its help, no <bool> / BOOLEAN between
            line = next((line for line in shown.splitlines() if p.opts[0] in line), "")
            if re.search(rf"{re.escape(p.opts[0])}\s+(<bool>|BOOLEAN)", line):
                flags_with_a_value.append(f"{where} {p.opts[0]}")
    assert (cut, wide, missing, flags_with_a_value) == ([], [], [], [])


def test_a_docstring_paragraph_is_one_paragraph_not_its_source_lines(monkeypatch, capsys):
    # At 1,000 columns every paragraph fits on one line: a line break inside one is the source's,
    # shown as typed (`serve` read "Embedded (no" then "BROADCASTER_BROKER_URL)", and the list of
    # commands "into files, so" then "every change").
    broken = []
    for words, command in COMMANDS:
        shown = _help(monkeypatch, capsys, words, 1000)
        listed = getattr(command, "commands", {}).values()
        said = [*paragraphs(command.help), *(paragraphs(sub.help)[0] for sub in listed if sub.help)]
        broken += [f"{' '.join(words)}: {paragraph[:60]}" for paragraph in said if paragraph not in shown]
    assert broken == []
    assert "Embedded (no BROADCASTER_BROKER_URL) it sends" in _help(monkeypatch, capsys, ["serve"], 80)


def test_a_long_flag_gets_a_line_of_its_own_and_its_help_under_it(monkeypatch, capsys):
    shown = _help(monkeypatch, capsys, ["statement", "draft"], 80).splitlines()
    at = next(i for i, line in enumerate(shown) if "--contact-centre-closed / --contact-centre-open" in line)
    assert shown[at + 1].strip("│ ").startswith("Disaster mode")
    assert "degraded_performance," in "\n".join(shown)


def test_every_command_says_what_it_does_and_every_option_what_it_takes():
    silent = [" ".join(words) for words, command in COMMANDS if not paragraphs(command.help)]
    bare = [f"{' '.join(words)} {p.opts[0]}" for words, command in COMMANDS for p in command.params
            if p.param_type_name == "option" and not p.help]
    assert (silent, bare) == ([], [])


def test_an_id_argument_says_whose_id_it_is():
    # `statement draft` takes an incident's id, and every step after it a statement's: the help says which.
    said = {" ".join(words): p.help for words, command in COMMANDS for p in command.params
            if p.param_type_name == "argument" and p.name in ("statement_id", "incident_id")}
    assert said["statement draft"].startswith("The incident's id, which `incident open` prints")
    for step in ("preview", "submit", "approve", "reject", "withdraw", "publish", "retry", "statement edit"):
        assert said[step].startswith("The statement's id, which `statement draft` prints"), step


def test_the_top_help_says_who_you_are_and_approve_says_what_no_hash_means(monkeypatch, capsys):
    top = " ".join(_help(monkeypatch, capsys, [], 80).replace("│", " ").split())
    assert "act as a user: --as NAME on the command, or `export BROADCASTER_USER=NAME` once for the shell" in top
    approve = " ".join(_help(monkeypatch, capsys, ["approve"], 80).replace("│", " ").split())
    assert "`broadcaster preview N --hash` prints it" in approve
    assert "Without it, the words stored now are approved." in approve
    log = " ".join(_help(monkeypatch, capsys, ["log"], 80).replace("│", " ").split())
    assert ("pending, sending, sent, simulated, delivered, bounced, undelivered, retry, failed, unknown, "
            "cancelled") in log


def test_a_group_says_only_what_its_commands_do():
    # `approval` said "links and codes" with only `link` in it: its help names each command it has.
    group = dict(COMMANDS)[("approval",)]
    assert list(group.commands) == ["link"] and "`link`" in group.help and "code" not in group.help


def test_a_usage_error_names_the_arguments_as_the_help_does(monkeypatch, capsys):
    # Typer's own usage line wrote `approve [OPTIONS] {statement_id}`, unlike the help's STATEMENT_ID.
    for words, usage in ((["approve"], "Usage: broadcaster approve [OPTIONS] STATEMENT_ID"),
                         (["statement", "draft"], "Usage: broadcaster statement draft [OPTIONS] INCIDENT_ID"),
                         (["approve", "abc"], "Usage: broadcaster approve [OPTIONS] STATEMENT_ID")):
        monkeypatch.setenv("COLUMNS", "80")
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(words)
        said = capsys.readouterr().err
        assert done.value.code == 2 and said.startswith(usage), said
        assert "{" not in said
