"""`radpulse articles`: the papers the radiology community discusses."""

from __future__ import annotations

import click

from radpulse.cli.output import console, echo_json, table
from radpulse.cli.params import TOPIC, WHEN


@click.group()
def articles() -> None:
    """Papers linked from posts: most discussed, by attention score."""


@articles.command("top")
@click.option("--since", "start", default="7d", show_default=True, type=WHEN,
              help="Mentions from posts newer than this: 24h, 7d, 4w, a date, an ISO time, or 'all'.")
@click.option("--topic", default=None, type=TOPIC, help="Only mentions in posts annotated with this subspecialty or theme.")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 1000), help="Rows to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def top(app, start, topic: str | None, limit: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """The most-discussed papers: mentions per platform, unique authors and attention score."""
    from radpulse.literature.attention import PLATFORMS, article_attention

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
    wide = console.width >= 120
    columns = ["#", "score", "mentions", *(["authors", "where"] if wide else []), "paper", "title"]
    rows = []
    for i, r in enumerate(records, start=1):
        where = ", ".join(f"{p} {r[f'mentions_{p}']}" for p in PLATFORMS if r[f"mentions_{p}"])
        name = r["title"] or "(awaiting metadata)"
        if r["journal"]:
            name += f" ({r['journal']})"
        paper = r["doi"] or (f"PMID {r['pmid']}" if r["pmid"] else r["key"])
        rows.append((i, f"{r['score']:.2f}", r["mentions"], *([r["unique_authors"], where] if wide else []),
                     paper, " ".join(name.split())))
    out = table(title, columns, rows, keep=("#", "paper"))
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
