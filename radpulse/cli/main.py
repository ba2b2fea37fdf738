"""The `radpulse` command line: one group, commands loaded lazily from radpulse.cli.cmd_*.

Every command gets an `App` (settings and database opened on first use). A RadpulseError
becomes a one-paragraph message on stderr and exit code 2; `--debug` shows the traceback.
Exit code 1 means the command ran but part of the work failed (e.g. one source of several).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import logging
import sys
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from radpulse import __version__
from radpulse.errors import RadpulseError

#: command name -> "module:attribute"; later capabilities add one line here
COMMANDS: dict[str, str] = {
    "init": "radpulse.cli.cmd_setup:init",
    "db": "radpulse.cli.cmd_setup:db",
    "status": "radpulse.cli.cmd_status:status",
    "sources": "radpulse.cli.cmd_sources:sources",
    "export": "radpulse.cli.cmd_export:export",
    "demo": "radpulse.cli.cmd_demo:demo",
    "collect": "radpulse.cli.cmd_collect:collect",
    "import": "radpulse.cli.cmd_import:import_group",
    "articles": "radpulse.cli.cmd_articles:articles",
    "analyze": "radpulse.cli.cmd_analysis:analyze",
    "annotate": "radpulse.cli.cmd_analysis:annotate",
    "review": "radpulse.cli.cmd_analysis:review",
    "trends": "radpulse.cli.cmd_trends:trends",
    "dashboard": "radpulse.cli.cmd_dashboard:dashboard",
    "report": "radpulse.cli.cmd_report:report",
    "digest": "radpulse.cli.cmd_digest:digest",
    "subscribers": "radpulse.cli.cmd_digest:subscribers",
    "run": "radpulse.cli.cmd_run:run",
    "alerts": "radpulse.cli.cmd_alerts:alerts",
}


class App:
    """What every command shares: the settings and the database, opened on first use."""

    def __init__(self, config: str | None, database_url: str | None, debug: bool) -> None:
        self.config_path = config
        self.database_url_override = database_url
        self.debug = debug
        self._db = None

    @cached_property
    def settings(self):  # type: ignore[no-untyped-def]
        from radpulse.config import load_settings

        return load_settings(self.config_path)

    @property
    def database_url(self) -> str:
        return self.database_url_override or self.settings.database_url

    def db(self, *, create: bool = False):  # type: ignore[no-untyped-def]
        """The database, migrated to the newest schema (every command upgrades on start).

        A missing SQLite file is an error unless `create` (only `init` and `demo` create one).
        """
        if self._db is None:
            from radpulse.db.engine import open_database

            self._db = open_database(self.database_url, create=create)
        return self._db


#: the group's own options, also accepted after the command (`radpulse demo --database-url X`)
GLOBAL_VALUE_OPTIONS = ("--database-url", "--config")
GLOBAL_FLAGS = ("--debug",)


def hoist_global_options(args: list[str]) -> list[str]:
    """Move the group's long options found after the command name to the front.

    Users type `radpulse status --database-url URL` as often as `radpulse --database-url URL
    status`; both mean the same. Nothing after a `--` is touched, and no command defines an
    option of these names, so the move never changes what a command receives.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS:
            front.append(arg)
        elif name in GLOBAL_VALUE_OPTIONS and "=" in arg:
            front.append(arg)
        elif arg in GLOBAL_VALUE_OPTIONS and i + 1 < len(args):
            front.extend(args[i:i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


class LazyGroup(click.Group):
    """A click group whose commands are imported only when used or listed."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self.get_command(ctx, name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # that capability is not built into this install
                return None
            raise
        return getattr(module, attr)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RadpulseError as exc:
            app = ctx.find_object(App)
            if app is not None and app.debug:
                raise
            click.secho(f"Error: {exc.message}", fg="red", err=True)
            if exc.hint:
                click.echo(exc.hint.strip(), err=True)
            ctx.exit(exc.exit_code)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `radpulse review` alone: click shows the group's help
        except click.UsageError as exc:
            # one paragraph, like every other error: what is wrong, and where to read how to do it
            command = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            click.secho(f"Error: {exc.format_message()}", fg="red", err=True)
            click.echo(f"See `{command} --help` for the options.", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "-c",
    type=click.Path(dir_okay=False, path_type=str),
    envvar="RADPULSE_CONFIG",
    help="Config file (default: ~/.config/radpulse/radpulse.toml; env RADPULSE_CONFIG).",
)
@click.option("--database-url", envvar="RADPULSE_DATABASE_URL", help="Database URL; overrides the config.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.version_option(__version__, prog_name="radpulse")
@click.pass_context
def cli(ctx: click.Context, config: str | None, database_url: str | None, debug: bool) -> None:
    """radpulse: watch radiology's conversation (X, Reddit, Mastodon, Bluesky) and literature.

    Start with `radpulse init`, then `radpulse collect`, or try everything offline with
    `radpulse demo`. Every command takes --help.
    """
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = App(config, database_url, debug)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    # At exit, CPython's last garbage collections walk every object the command loaded
    # (SQLAlchemy, pydantic, the models: ~0.3 CPU-second, a quarter of a short command); frozen
    # objects are not walked. Registered after logging's handler, so it runs before it; files are
    # closed by their `with` blocks and the standard streams are flushed regardless.
    atexit.register(gc.freeze)
    try:
        cli.main(args=argv, prog_name="radpulse")
    except KeyboardInterrupt:
        click.echo("Interrupted; everything committed so far is kept.", err=True)
        sys.exit(130)


def package_root() -> Path:
    return Path(__file__).resolve().parents[1]
