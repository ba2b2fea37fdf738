"""`radpulse digest preview|send` and `radpulse subscribers add|list|remove`: the weekly email."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from radpulse.cli.output import console, echo_json, table
from radpulse.cli.params import TOPIC
from radpulse.errors import InputError
from radpulse.terminal import terminal_safe


def _week(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"--week {value!r} is not a date.", hint="Give any day of the week, e.g. --week 2026-11-16.") from None


@click.group()
def digest() -> None:
    """The weekly email digest: preview it, send it to subscribers."""


@digest.command()
@click.option("--week", "week", metavar="DATE", help="Any day of the week to show (default: the last full week).")
@click.option("--topic", "topics", multiple=True, type=TOPIC,
              help="Only these subspecialties or themes (repeatable), e.g. --topic neuro --topic ai.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML here instead of printing the text.")
@click.pass_obj
def preview(app, week: str | None, topics: tuple[str, ...], out: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Render a week's digest without sending it: plain text on stdout, or HTML to --out."""
    from radpulse.digest import build_digest, last_full_week, render, week_of

    day = _week(week)
    start, end = week_of(day) if day else last_full_week()
    doc = build_digest(app.db(), app.settings, start, end, topics=list(topics))
    html_doc, text_doc = render(doc, unsubscribe=None)
    if out is None:
        click.echo(terminal_safe(text_doc), nl=False)  # post text may carry escape sequences
        return
    out.write_text(html_doc, encoding="utf-8")
    click.echo(f"Wrote {out} (week of {start}, {doc.posts:,} posts, {len(doc.articles)} papers).", err=True)


@digest.command()
@click.option("--week", "week", metavar="DATE", help="Any day of the week to send (default: the last full week).")
@click.option("--dry-run", is_flag=True, help="List who would get it; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def send(app, week: str | None, dry_run: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Send the week's digest to every active subscriber who has not had it yet.

    A subscriber never gets the same week twice: run it again after a failure and only the
    ones left are sent. Exits 1 when any could not be sent.
    """
    from radpulse.digest import send_digests

    result = send_digests(app.db(), app.settings, start=_week(week), dry_run=dry_run)
    if as_json:
        echo_json({**result.as_dict(), "dry_run": dry_run})
    else:
        verb = "would be sent to" if dry_run else "sent to"
        console.print(f"Digest for the week of {result.start}: {verb} {len(result.sent)}, "
                      f"already sent {len(result.skipped)}, failed {len(result.failed)}"
                      + (f", outcome unknown {len(result.unknown)}" if result.unknown else "") + ".", markup=False)
        for email, error in result.failed.items():
            console.print(terminal_safe(f"- {email}: {error}"), markup=False)
        for email in result.unknown:
            console.print(terminal_safe(f"- {email}: maybe delivered, not resent (check the mail server's log; "
                                        f"`radpulse digest resend {email} --week {result.start}`)"), markup=False)
    if result.failed:
        raise SystemExit(1)


@digest.command()
@click.argument("email")
@click.option("--week", "week", metavar="DATE", required=True, help="Any day of the week to send again.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def resend(app, email: str, week: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Send one subscriber's digest of one week again, whatever was recorded.

    For a delivery `radpulse status` shows as unknown (the connection to the SMTP server ended
    after the message was handed over, so it may have arrived) or failed. Exits 1 when it could
    not be sent.
    """
    from radpulse.digest import normalise_email, send_digests
    from radpulse.digest.subscribers import list_subscribers

    address = normalise_email(email)
    known = {s["email"] for s in list_subscribers(app.db()) if s["active"]}
    if address not in known:
        raise InputError(f"{address} is not an active subscriber.",
                         hint="See `radpulse subscribers list`; add it with `radpulse subscribers add`.")
    result = send_digests(app.db(), app.settings, start=_week(week), emails=[address], force=True)
    if as_json:
        echo_json(result.as_dict())
    elif result.sent:
        console.print(f"Sent the digest of the week of {result.start} to {address} again.", markup=False)
    else:
        why = result.failed.get(address) or ("the outcome is unknown" if result.unknown else "another sender holds it now")
        console.print(terminal_safe(f"Not sent to {address}: {why}."), markup=False)
    if not result.sent:
        raise SystemExit(1)


@click.group()
def subscribers() -> None:
    """Who receives the weekly digest."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", help="How to greet them (optional).")
@click.option("--topic", "topics", multiple=True, type=TOPIC,
              help="Only these subspecialties or themes in their digest (repeatable; default: everything).")
@click.option("--alerts/--no-alerts", "alerts", default=None,
              help="Also email them spike alerts (at most once a day per subject); default: unchanged, off for new.")
@click.pass_obj
def add(app, email: str, name: str | None, topics: tuple[str, ...], alerts: bool | None) -> None:  # type: ignore[no-untyped-def]
    """Subscribe EMAIL to the weekly digest (again, if they had unsubscribed)."""
    from radpulse.digest import add_subscriber

    row, created = add_subscriber(app.db(), email, name=name, topics=list(topics), alerts=alerts)
    click.echo(f"{'Added' if created else 'Updated'} {row.email}" + (f" (topics: {', '.join(row.topics)})" if row.topics else "") + ".")


@subscribers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_(app, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List subscribers."""
    from radpulse.digest import list_subscribers

    rows = list_subscribers(app.db())
    if as_json:
        echo_json(rows)
        return
    console.print(table("Subscribers", ["email", "name", "topics", "active", "since"],
                        [(r["email"], r["name"], ", ".join(r["topics"] or []) or "all",
                          "yes" if r["active"] else "unsubscribed", r["created_at"].date()) for r in rows]))


@subscribers.command("remove")
@click.argument("email")
@click.pass_obj
def remove(app, email: str) -> None:  # type: ignore[no-untyped-def]
    """Delete a subscriber and the record of what they were sent."""
    from radpulse.digest import remove_subscriber

    if not remove_subscriber(app.db(), email):
        raise InputError(f"{email} is not a subscriber.", hint="See `radpulse subscribers list`.")
    click.echo(terminal_safe(f"Removed {email.strip()}."))
