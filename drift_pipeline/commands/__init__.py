"""Sub-commands of ``drift``. Add a command by importing it here and listing it in COMMANDS."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = [
]
