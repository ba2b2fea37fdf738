"""Shared output helpers for CLI commands: rich tables, JSON, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.cells import cell_len
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


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
          keep: Iterable[str] = (), fold: Iterable[str] = ()) -> Table:
    """A rich table that reads at any width: one line per row, numbers right-aligned and never
    cut, other cells cut with an ellipsis (never broken mid-word) when the terminal is narrow.

    Numeric columns and the columns named in `keep` keep their full width; the other columns
    share what is left, each getting what it needs when it needs less than an equal share.
    Columns named in `fold` are never cut: they take what is left and wrap onto further lines
    (names that must stay whole, such as source names that differ only at the end). When `fold`
    is given, every other column keeps its full width.
    Cell text is printed literally (no markup).
    """
    folded = set(fold)
    kept = (set(columns) - folded) if folded else set(keep) | NUMERIC
    t = FittedTable(title=title, header_style="bold")
    for name in columns:
        t.add_column(name, justify="right" if name in NUMERIC else "left", no_wrap=name not in folded,
                     overflow="fold" if name in folded else "ellipsis")
    t.flexible = [name not in kept for name in columns]
    for row in rows:
        t.add_row(*["" if v is None else _plain(v) for v in row])
    return t


class FittedTable(Table):
    """A Table whose flexible columns are narrowed to fit the console (see `table`)."""

    flexible: list[bool]

    def __rich_console__(self, console, options):  # type: ignore[no-untyped-def]
        widths = [max([cell_len(str(c.header))] + [cell_len(str(cell)) for cell in c.cells]) for c in self.columns]
        room = options.max_width - (3 * len(widths) + 1)  # padding 1+1 per column and the rules
        fit = fit_widths(widths, self.flexible, room)
        for column, width, need in zip(self.columns, fit, widths):
            column.width = width if width < need else None
        yield from super().__rich_console__(console, options)


def fit_widths(needs: Sequence[int], flexible: Sequence[bool], room: int, minimum: int = 6) -> list[int]:
    """Widths within `room`: fixed columns get what they need, flexible ones share the rest
    (water-filling: a column needing less than an equal share gets its need)."""
    out = list(needs)
    left = room - sum(n for n, f in zip(needs, flexible) if not f)
    open_ = sorted((n, i) for i, (n, f) in enumerate(zip(needs, flexible)) if f)
    while open_:
        share = max(left // len(open_), minimum)
        need, i = open_[0]
        if need <= share:
            open_.pop(0)
            left -= need
            continue
        for _, j in open_:
            out[j] = share
        break
    return out


def _plain(value: Any) -> Any:
    from rich.text import Text

    from radpulse.terminal import terminal_safe

    return Text(terminal_safe(str(value)))


def short_time(iso: str | None) -> str:
    """'2026-11-20T12:34:56+00:00' as '2026-11-20 12:34' (the tables' time format)."""
    return "" if not iso else str(iso).replace("T", " ")[:16]


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
