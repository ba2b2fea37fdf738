"""`radpulse alerts preview|send`: spike alerts for subscribers who opted in."""

from __future__ import annotations

import datetime as dt

import click

from radpulse.cli.output import console, echo_json
from radpulse.errors import InputError
from radpulse.terminal import terminal_safe


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"--day {value!r} is not a date.", hint="Give a date, e.g. --day 2026-11-18.") from None


@click.group()
def alerts() -> None:
    """Spike alerts: a hashtag, subspecialty or theme much busier than in the weeks before."""


@alerts.command()
@click.option("--day", metavar="DATE", help="The day to look at (default: yesterday, UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def preview(app, day: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show the spikes of a day and who would be emailed; send nothing."""
    from radpulse.alerts.delivery import alert_text, send_alerts

    db = app.db()
    result = send_alerts(db, app.settings, day=_day(day), dry_run=True)
    if as_json:
        echo_json(result.as_dict())
        return
    console.print(f"Spikes on {result.day}: {len(result.spikes)}; alerts that would be sent: {len(result.sent)}, "
                  f"already sent {len(result.skipped)}.", markup=False)
    for spike in result.spikes:
        click.echo("")
        click.echo(terminal_safe(alert_text(db, spike)), nl=False)
        who = sorted(email for email, subject in result.sent if subject == spike.subject)
        click.echo(terminal_safe(f"to: {', '.join(who) or 'nobody (no opted-in subscriber wants it)'}"))


@alerts.command()
@click.option("--day", metavar="DATE", help="The day to look at (default: yesterday, UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def send(app, day: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Email the day's spikes to opted-in subscribers (once per subject and day). Exits 1 on failures."""
    from radpulse.alerts.delivery import send_alerts

    result = send_alerts(app.db(), app.settings, day=_day(day))
    if as_json:
        echo_json(result.as_dict())
    else:
        console.print(f"Spikes on {result.day}: {len(result.spikes)}; alerts sent {len(result.sent)}, already sent "
                      f"{len(result.skipped)}, failed {len(result.failed)}.", markup=False)
    if result.failed:
        raise SystemExit(1)
