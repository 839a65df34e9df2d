"""The ``drift`` command: the pipeline's scans for people and for CI.

Each sub-command lives in ``drift_pipeline/commands/<name>.py`` and calls the same functions the
Dagster assets call; this module only assembles the group and maps errors to exit codes.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from drift_pipeline import __version__
from drift_pipeline.commands._output import echo
from drift_pipeline.core.errors import DriftError, ExitCode, redact

EXIT_CODES_HELP = """\b
Exit codes:
  0    clean: no findings
  1    findings (drift, or config problems) were reported
  2    usage or configuration error
  3    could not complete (auth, API, unexpected failure)
  130  interrupted
"""


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drift")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Detect drift between what each repository declares and what is true.

    Scans a GitHub organisation (or local clones) against the standards declared in
    check.toml / standards.toml, and reports drift.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    from drift_pipeline.commands import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="drift", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return ExitCode.INTERRUPTED
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.ClickException as exc:
        exc.show()
        return ExitCode.CONFIG
    except DriftError as exc:
        echo(f"drift: {redact(str(exc))}", err=True)
        if debug:
            traceback.print_exc()
        return int(exc.exit_code)
    except Exception as exc:
        echo(f"drift: unexpected error: {redact(f'{type(exc).__name__}: {exc}')}", err=True)
        if debug:
            traceback.print_exc()
        else:
            click.echo("drift: run with --debug for the traceback", err=True)
        return ExitCode.RUNTIME
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
