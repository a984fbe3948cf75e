"""`invite-service --help` and each command's help are current: every command is listed with a summary
and a description, and every option says what it is."""

from __future__ import annotations

import argparse

import pytest

from invite_service import cli

COMMANDS = ["serve", "migrate", "worker", "beat", "token", "sandbox-integration", "sandbox-parsing"]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_top_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli.build_parser()
    assert list(_subparsers(parser)) == COMMANDS
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = capsys.readouterr().out
    for command in COMMANDS:
        assert command in text
    assert "INVITE_" in text and "more commands join" not in text
    assert cli.__doc__ is not None and all(command in cli.__doc__ for command in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_and_option_is_explained(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    sub = _subparsers(cli.build_parser())[command]
    assert sub.description, f"{command} has no description"
    undocumented = [
        a.option_strings[0]
        for a in sub._actions
        if a.option_strings and a.dest != "help" and not (a.help and a.help.strip())
    ]
    assert not undocumented, f"{command}: options without help: {undocumented}"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([command, "--help"])
    assert sub.description.split()[0] in capsys.readouterr().out
