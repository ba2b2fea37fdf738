"""`radpulse analyze`, `radpulse annotate` and `radpulse review`: the analysis commands."""

from __future__ import annotations

import dataclasses
import getpass

import click

from radpulse.cli.output import console, echo_json, err_console, progress, table
from radpulse.cli.params import REVIEW_FLAG
from radpulse.errors import InputError


@click.command()
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Posts read, annotated and written per transaction.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
def analyze(app, batch_size: int, as_json: bool) -> None:
    """Annotate posts that are new, changed, or annotated by an older model version."""
    from radpulse.analysis.pipeline import Annotator
    from radpulse.analysis.store import analyze as run_analyze
    from radpulse.analysis.store import count_due

    db = app.db()
    annotator = Annotator()
    due = count_due(db, annotator)
    with progress() as bar:
        task = bar.add_task("annotating posts", total=due)
        result = run_analyze(db, annotator, batch_size=batch_size,
                             on_batch=lambda n: bar.advance(task, n))
    data = {**dataclasses.asdict(result), "annotated": result.annotated,
            "model": annotator.name, "version": annotator.version}
    if as_json:
        echo_json(data)
        return
    console.print(
        f"Annotated {result.annotated} posts ({result.new} new, {result.changed} changed, "
        f"{result.outdated} from an older model) with {annotator.name} {annotator.version}; "
        f"typed {result.authors} authors."
    )


@click.command()
@click.argument("infile", metavar="IN", type=click.Path(dir_okay=False, path_type=str))
@click.option("--out", "-o", "outfile", type=click.Path(dir_okay=False, path_type=str),
              help="JSON Lines output file (default: standard output).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True)
def annotate(infile: str, outfile: str | None, batch_size: int) -> None:
    """Annotate posts in a file (JSON Lines with `text`, or CSV with a `text` column).

    No database is used. Each output line has id, sentiment, sentiment_score, subspecialty,
    subspecialties, themes, flags and language; a record that cannot be read gets an
    `error` line instead, the rest of the file goes on, and the exit code is 1.
    """
    from radpulse.analysis.annotate import annotate_file, check_input, open_output

    check_input(infile)  # whole-file errors before the output file is created
    out = open_output(outfile)
    try:
        with progress() as bar:
            task = bar.add_task("annotating", total=None)
            summary = annotate_file(infile, out, batch_size=batch_size,
                                    on_batch=lambda n: bar.advance(task, n))
    finally:
        if outfile not in (None, "-"):
            out.close()
    err_console.print(f"{summary.annotated} annotated, {summary.errors} with errors"
                      + (f", written to {outfile}" if outfile else ""))
    if summary.errors:
        err_console.print("Records that could not be read have an `error` line in the output; fix them and "
                          "run again (exit code 1).")
        raise SystemExit(1)


#: recorded when a reviewer gives no --reason (the README's `review dismiss ID` form)
DEFAULT_REASON = "no reason given"


@click.group()
def review() -> None:
    """Review flagged posts (privacy risk, advice requests, spam): list, confirm, dismiss."""


@review.command("list")
@click.option("--flag", type=REVIEW_FLAG, help="Only this flag (privacy_risk, medical_advice_request, spam).")
@click.option("--all", "include_decided", is_flag=True, help="Include posts already decided.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def review_list(app, flag: str | None, include_decided: bool, limit: int, as_json: bool) -> None:
    """List flagged posts awaiting a decision."""
    from radpulse.analysis.review import flagged_posts

    items = flagged_posts(app.db(), flag=flag, include_decided=include_decided, limit=limit)
    if as_json:
        echo_json([{**dataclasses.asdict(i), "pending": i.pending, "held": i.held} for i in items])
        return
    if not items:
        console.print("No flagged posts awaiting review.")
        return
    rows = [
        (i.post_id, i.platform, i.created_at.strftime("%Y-%m-%d"), ", ".join(i.pending) or "-",
         "; ".join(r for f in i.flags for r in i.reasons.get(f, [])),
         (i.text[:100] + "…") if len(i.text) > 100 else i.text)
        for i in items
    ]
    console.print(table("Flagged posts", ["post", "platform", "date", "pending", "why", "text"], rows))


def _decide(app, post_id: int, flag: str | None, reason: str, reviewer: str | None, decision: str):
    from radpulse.analysis.review import decide, flagged_posts

    db = app.db()
    flags = [flag] if flag else None
    if flags is None:
        match = [i for i in flagged_posts(db, include_decided=True, limit=10**9) if i.post_id == post_id]
        if not match:
            raise InputError(f"Post {post_id} is not flagged.")
        flags = match[0].pending or match[0].flags
    who = reviewer or _login_name()
    for f in flags:
        decide(db, post_id, f, decision, reason, who)
    console.print(f"Post {post_id}: {', '.join(flags)} {decision} by {who} (reason: {reason}).", markup=False)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (containers, cron)
        return "unknown"


@review.command("confirm")
@click.argument("post_id", type=int)
@click.option("--flag", type=REVIEW_FLAG, help="Which flag (default: every pending flag of the post).")
@click.option("--reason", default=DEFAULT_REASON, show_default=True, help="Why (recorded with the decision).")
@click.option("--reviewer", help="Who decided (default: the login name).")
@click.pass_obj
def review_confirm(app, post_id: int, flag: str | None, reason: str, reviewer: str | None) -> None:
    """Confirm a flag: the post stays out of digests and public lists."""
    _decide(app, post_id, flag, reason, reviewer, "confirmed")


@review.command("dismiss")
@click.argument("post_id", type=int)
@click.option("--flag", type=REVIEW_FLAG, help="Which flag (default: every pending flag of the post).")
@click.option("--reason", default=DEFAULT_REASON, show_default=True, help="Why (recorded with the decision).")
@click.option("--reviewer", help="Who decided (default: the login name).")
@click.pass_obj
def review_dismiss(app, post_id: int, flag: str | None, reason: str, reviewer: str | None) -> None:
    """Dismiss a flag: once every flag is dismissed the post is released."""
    _decide(app, post_id, flag, reason, reviewer, "dismissed")
