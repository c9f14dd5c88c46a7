"""Commands other packages add to ``spotify-charts``, and the errors every command raises.

``spotify-charts`` itself holds the commands that serve a deployment (report, live,
dashboard, deploy, poll, glue). Another installed package adds commands by naming
them in its distribution's entry points, which the command line reads at start::

    [project.entry-points."spotify_charts.commands"]
    my-command = "some_package.commands:MY_COMMAND"   # name = a Command or a Passthrough

So this package never imports the package that adds commands, and one command line
serves both (this project's local tooling adds run, local-glue, load and backfill this
way: see pyproject.toml).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from importlib import import_module, metadata
from typing import Any, Callable, Sequence, Union

from spotify_charts.text import terminal_json

ENTRY_POINT_GROUP = "spotify_charts.commands"


class CommandError(RuntimeError):
    """A command could not do its job; the message says why (exit 1)."""


@dataclass(frozen=True)
class Command:
    """A subcommand whose arguments ``spotify-charts`` parses."""

    help: str  # one line in ``spotify-charts --help``
    description: str  # its own ``--help``
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]  # returns the exit code


@dataclass(frozen=True)
class Passthrough:
    """A subcommand that hands every argument after its name to ``module.main(argv)``
    (so its own parser, usage line and ``--help`` apply)."""

    help: str
    module: str

    def main(self, argv: Sequence[str]) -> int:
        return import_module(self.module).main(list(argv))


AddedCommand = Union[Command, Passthrough]


def added_commands() -> dict[str, AddedCommand]:
    """The commands installed packages add, by name."""
    found: dict[str, AddedCommand] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        command = entry.load()
        if not isinstance(command, (Command, Passthrough)):
            raise TypeError(f"entry point {entry.name} = {entry.value} is not a Command or a Passthrough")
        found[entry.name] = command
    return found


# -- for every command's arguments and output --------------------------------------------

def positive(kind: type) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` greater than 0."""
    return _at_least(kind, 0, inclusive=False)


def non_negative(kind: type) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind``, 0 or more."""
    return _at_least(kind, 0, inclusive=True)


def _at_least(kind: type, minimum: Any, inclusive: bool) -> Callable[[str], Any]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(
                f"must be {'at least' if inclusive else 'greater than'} {minimum}: {text!r}")
        return value
    return parse


def print_json(value: Any) -> None:
    """JSON on stdout; names from the data cannot steer the terminal (``text.terminal_json``)."""
    print(terminal_json(value, indent=1, default=str))
