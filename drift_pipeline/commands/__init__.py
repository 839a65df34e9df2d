"""Sub-commands of ``drift``. Add a command by importing it here and listing it in COMMANDS."""

from __future__ import annotations

import click

from drift_pipeline.commands.audit import scan_group
from drift_pipeline.commands.code import code_group
from drift_pipeline.commands.config import config_group
from drift_pipeline.commands.demo import demo_command
from drift_pipeline.commands.doctor import doctor_command
from drift_pipeline.commands.evidence import evidence_command
from drift_pipeline.commands.infra import infra_group
from drift_pipeline.commands.process import process_group
from drift_pipeline.commands.sandbox import sandbox_group
from drift_pipeline.commands.sql import sql_command
from drift_pipeline.commands.trends import trends_command

COMMANDS: list[click.Command] = [
    code_group,
    config_group,
    demo_command,
    doctor_command,
    evidence_command,
    infra_group,
    process_group,
    sandbox_group,
    scan_group,
    sql_command,
    trends_command,
]
