"""`radpulse trends emerging|topics`: what is new in the conversation, and what it is about."""

from __future__ import annotations

import datetime as dt

import click

from radpulse.cli.output import console, echo_json, table
from radpulse.cli.params import POST_PLATFORM, WHEN
from radpulse.errors import InputError


def _end(until: dt.datetime | None) -> dt.datetime:
    return until or dt.datetime.now(dt.UTC)


@click.group()
def trends() -> None:
    """Emerging terms and discovered topics in the stored posts (held posts left out)."""


@trends.command()
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 365), help="Length of the window.")
@click.option("--until", "until", type=WHEN,
              help="End of the window, excluded: a date (that day is excluded), an ISO time or 2d ago (default: now).")
@click.option("--baseline", default=4, show_default=True, type=click.IntRange(1, 52),
              help="How many windows before it make the baseline.")
@click.option("--min-authors", default=3, show_default=True, type=click.IntRange(1), help="Fewest distinct accounts.")
@click.option("--platform", "platforms", multiple=True, type=POST_PLATFORM, help="Only these platforms (repeatable).")
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def emerging(app, days: int, until: dt.datetime | None, baseline: int, min_authors: int, platforms: tuple[str, ...],  # type: ignore[no-untyped-def]
             top: int, as_json: bool) -> None:
    """Terms and hashtags used by more distinct accounts in the window than in the ones before.

    The score is a Poisson-style z-score on distinct accounts, so one account repeating a term
    (or a bot) does not make it emerge.
    """
    from radpulse.analysis.discovery import discovery_frame, emerging_terms

    end = _end(until)
    window = dt.timedelta(days=days)
    with app.db().engine.connect() as conn:
        frame = discovery_frame(conn, end - window * (baseline + 1), end, platforms=platforms)
    terms = emerging_terms(frame, end, window=window, baseline_windows=baseline, min_authors=min_authors, top=top)
    rows = terms.to_dict("records")
    if as_json:
        echo_json({"start": (end - window).isoformat(), "end": end.isoformat(),
                   "baseline_start": (end - window * (baseline + 1)).isoformat(), "baseline_windows": baseline,
                   "posts": len(frame), "terms": rows})
        return
    if not rows:
        console.print(f"No emerging term in the {days} days to {end:%Y-%m-%d %H:%M} UTC "
                      f"({len(frame):,} posts read; try --min-authors or a longer --days).", markup=False)
        return
    console.print(f"Window: the {days} days to {end:%Y-%m-%d %H:%M} UTC; baseline: the {baseline} windows of "
                  f"{days} days before it (from {end - window * (baseline + 1):%Y-%m-%d}).", markup=False)
    console.print(table(f"Emerging in the {days} days to {end:%Y-%m-%d %H:%M} UTC",
                        ["term", "kind", "authors", "baseline", "posts", "score", "new"],
                        [(r["term"], r["kind"], r["authors"], r["baseline"], r["posts"], r["score"], "yes" if r["new"] else "")
                         for r in rows]))


@trends.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650), help="Posts of the last N days.")
@click.option("--until", "until", type=WHEN,
              help="End of the window, excluded: a date (that day is excluded), an ISO time or 2d ago (default: now).")
@click.option("-k", "--topics", "n_topics", default=10, show_default=True, type=click.IntRange(2, 100))
@click.option("--method", type=click.Choice(["nmf", "lda"]), default="nmf", show_default=True)
@click.option("--platform", "platforms", multiple=True, type=POST_PLATFORM, help="Only these platforms (repeatable).")
@click.option("--limit", default=100_000, show_default=True, type=click.IntRange(100), help="At most this many posts (the newest).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def topics(app, days: int, until: dt.datetime | None, n_topics: int, method: str, platforms: tuple[str, ...],  # type: ignore[no-untyped-def]
           limit: int, as_json: bool) -> None:
    """Discover topics (NMF or LDA) in the posts of a window, with their top terms and share."""
    from radpulse.analysis.discovery import TopicDiscovery, discovery_frame

    end = _end(until)
    with app.db().engine.connect() as conn:
        frame = discovery_frame(conn, end - dt.timedelta(days=days), end, platforms=platforms, limit=limit)
    if len(frame) < n_topics:
        raise InputError(f"only {len(frame):,} posts in the {days} days to {end:%Y-%m-%d}: too few for {n_topics} topics.",
                         hint="Use a longer --days, fewer --topics, or collect more first.")
    model = TopicDiscovery(n_topics=n_topics, method=method)
    weights = model.fit_transform(frame["text"].tolist())
    main = weights.argmax(axis=1)
    found = [{"topic": i + 1, "label": model.labels_[i], "terms": model.top_terms_[i],
              "posts": int((main == i).sum()), "share": round(float((main == i).mean()), 3)}
             for i in range(weights.shape[1])]
    found.sort(key=lambda t: -t["posts"])
    if as_json:
        echo_json({"posts": len(frame), "method": method, "topics": found})
        return
    console.print(table(f"{len(found)} topics in {len(frame):,} posts ({method.upper()})", ["topic", "terms", "posts", "share"],
                        [(t["topic"], ", ".join(t["terms"]), t["posts"], f"{100 * t['share']:.0f}%") for t in found]))


@trends.command("refresh")
@click.option("--all", "everything", is_flag=True, help="Recompute every day, not only the days marked changed.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
def refresh(app, everything: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Compute the stored trends the dashboard reads (emerging terms per day, topics per week).

    `radpulse analyze` does this for the days whose posts changed; run it with --all after
    restoring a backup or editing posts by hand.
    """
    import time

    from radpulse.analysis.trends import rebuild_trends, refresh_stale_trends

    started = time.perf_counter()
    step = (lambda msg: None) if as_json else (lambda msg: console.print(f"… {msg}"))
    done = (rebuild_trends if everything else refresh_stale_trends)(app.db(), progress=step)
    took = time.perf_counter() - started
    if as_json:
        echo_json({**done, "seconds": round(took, 2)})
    else:
        console.print(f"Stored trends of {done['days']:,} changed days: {done['windows']:,} emerging-term windows, "
                      f"{done['topic_rows']:,} topics, in {took:.1f}s.")
