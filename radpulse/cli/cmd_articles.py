"""`radpulse articles`: the papers the radiology community discusses."""

from __future__ import annotations

import datetime as dt
import re

import click
from rich.table import Table
from rich.text import Text

from radpulse.cli.output import console, echo_json
from radpulse.terminal import terminal_safe

_SPAN = re.compile(r"^(\d+)\s*([hdwmy])$", re.IGNORECASE)
_UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1),
          "m": dt.timedelta(days=30), "y": dt.timedelta(days=365)}


def parse_since(value: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """'7d', '24h', '2w', '3m', '1y', an ISO date, or 'all' (None) -> a UTC start time."""
    from radpulse.errors import InputError

    text = value.strip().lower()
    if text in ("all", "ever", ""):
        return None
    now = now or dt.datetime.now(dt.UTC)
    if m := _SPAN.match(text):
        return now - int(m.group(1)) * _UNITS[m.group(2)]
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"--since {value!r} is neither a span like 7d/24h/2w nor a date.",
                         hint="Use e.g. --since 7d, --since 2025-01-01 or --since all.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@click.group()
def articles() -> None:
    """Papers linked from posts: most discussed, by attention score."""


@articles.command("top")
@click.option("--since", default="7d", show_default=True,
              help="Mentions from posts newer than this: 24h, 7d, 4w, 3m, an ISO date, or 'all'.")
@click.option("--topic", default=None, help="Only mentions in posts annotated with this subspecialty or theme.")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 1000), help="Rows to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def top(app, since: str, topic: str | None, limit: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """The most-discussed papers: mentions per platform, unique authors and attention score."""
    from radpulse.literature.attention import PLATFORMS, article_attention

    start = parse_since(since)
    frame = article_attention(app.db(), since=start, topic=topic, limit=limit)
    records = frame.to_dict(orient="records")
    for rec in records:
        for key in ("first_mention", "latest_mention"):
            rec[key] = rec[key].isoformat() if rec[key] is not None and hasattr(rec[key], "isoformat") else rec[key]
    if as_json:
        echo_json(records)
        return
    where = f" on {topic}" if topic else ""
    title = f"Most-discussed papers{where}, " + (f"since {start:%Y-%m-%d %H:%M} UTC" if start else "all time")
    if not records:
        console.print(f"{title}: no paper was mentioned. Collect posts first (`radpulse collect`).")
        return
    out = Table(title=title, header_style="bold")
    for name in ("#", "score", "mentions", "authors"):
        out.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    papers = [r["doi"] or (f"PMID {r['pmid']}" if r["pmid"] else r["key"]) for r in records]
    out.add_column("where", overflow="fold", max_width=24)
    out.add_column("paper", overflow="fold", min_width=min(28, max(len(p) for p in papers)))
    out.add_column("title", overflow="fold", min_width=20)
    for i, (r, paper) in enumerate(zip(records, papers), start=1):
        where = ", ".join(f"{p} {r[f'mentions_{p}']}" for p in PLATFORMS if r[f"mentions_{p}"])
        name = r["title"] or "(awaiting metadata)"
        if r["journal"]:
            name += f" ({r['journal']})"
        out.add_row(*[Text(terminal_safe(str(v))) for v in (i, f"{r['score']:.2f}", r["mentions"], r["unique_authors"], where,
                                              paper, name)])
    console.print(out)


@articles.command("link")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
def link(app, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Link every stored post to the papers it cites (for posts stored or imported earlier).

    Collection links new posts as they are stored; this pass is idempotent.
    """
    from dataclasses import asdict

    from radpulse.literature.linking import link_all

    result = link_all(app.db())
    if as_json:
        echo_json(asdict(result))
        return
    click.echo(f"Scanned {result.posts:,} posts: {result.posts_citing:,} cite papers, "
               f"{result.mentions:,} mentions stored, {result.stubs:,} new papers queued for Crossref.")
