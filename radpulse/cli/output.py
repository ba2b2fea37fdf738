"""Shared output helpers for CLI commands: rich tables, JSON, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def echo_json(data: Any) -> None:
    """Print `data` as JSON on stdout (dates as ISO strings)."""
    from radpulse.terminal import escape_controls_in_json

    click.echo(escape_controls_in_json(json.dumps(data, indent=2, default=str, ensure_ascii=False)))


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table; numbers right-aligned. Cell text is printed literally (no markup)."""
    t = Table(title=title, header_style="bold")
    for name in columns:
        t.add_column(name, justify="right" if name in NUMERIC else "left", overflow="fold")
    for row in rows:
        t.add_row(*["" if v is None else _plain(v) for v in row])
    return t


def _plain(value: Any) -> Any:
    from rich.text import Text

    from radpulse.terminal import terminal_safe

    return Text(terminal_safe(str(value)))


NUMERIC = {"fetched", "new", "updated", "errors", "failed", "posts", "count", "authors", "articles",
           "mentions", "score", "likes", "reposts", "replies", "rows", "spent", "budget", "units"}


def progress(transient: bool = False) -> Progress:
    """A progress bar on stderr (hidden when stderr is not a terminal)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
        disable=not sys.stderr.isatty(),
    )
