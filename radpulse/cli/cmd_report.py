"""`radpulse report`: the board pack, one self-contained HTML file (optionally a PDF)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import click

from radpulse.errors import InputError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _day(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date.", hint=f"Write it as YYYY-MM-DD, e.g. {name} 2026-11-01.") from None


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print `html_path` to `pdf_path` with headless Chromium (InputError when none is installed)."""
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        raise InputError("--pdf needs Chromium, and none is installed.",
                         hint="Install chromium (e.g. apt-get install chromium), or open the HTML report and print it.")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
           f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0 or not pdf_path.exists():
        raise InputError(f"Chromium could not print the report (exit {done.returncode}).",
                         hint="The HTML report was written; open it in a browser and print it.")


@click.command()
@click.option("--from", "start", required=True, metavar="DATE", help="First day of the report (YYYY-MM-DD).")
@click.option("--to", "end", required=True, metavar="DATE", help="Last day of the report (YYYY-MM-DD, included).")
@click.option("--congress", metavar="TAG", help="Add a congress section for this hashtag (the report's dates are the meeting).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The HTML file to write.")
@click.option("--pdf", is_flag=True, help="Also print a PDF next to it with headless Chromium.")
@click.pass_obj
def report(app, start: str, end: str, congress: str | None, out: Path, pdf: bool) -> None:  # type: ignore[no-untyped-def]
    """Write a self-contained HTML board pack for a period: headline numbers, figures, top papers and
    accounts, and a methods note. It needs no network to open (plotly.js is embedded)."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if first > last:
        raise InputError(f"--from {first} is after --to {last}.", hint="Give the first day, then the last.")
    db = app.db()
    from radpulse.dashboards.report import build_report

    document = build_report(db, first, last, congress=congress)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(document, encoding="utf-8")
    tmp.replace(out)
    click.echo(f"Wrote {out} ({len(document) / 1e6:.1f} MB, {first} to {last}).", err=True)
    if pdf:
        target = out.with_suffix(".pdf")
        print_pdf(out, target)
        click.echo(f"Wrote {target}.", err=True)
