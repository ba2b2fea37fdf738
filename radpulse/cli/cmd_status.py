"""`radpulse status`: what is stored, what ran, what the API budgets allow."""

from __future__ import annotations

import click

from radpulse.cli.output import console, echo_json, short_time, table
from radpulse.terminal import terminal_safe


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(app, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show counts, tracked sources with their last runs, and the X read budget."""
    from radpulse.status import status_report

    report = status_report(app.db(), app.settings)
    if as_json:
        echo_json(report)
        return
    t = report["totals"]
    console.print(f"Database: {report['database']} (schema {report['schema_revision']})", markup=False)
    if report["synthetic_demo"]:
        console.print("Contains SYNTHETIC demo data (radpulse demo).", markup=False)
    console.print(table("Stored", ["what", "count"], [
        *[(f"posts ({p})", n) for p, n in sorted(t["posts_by_platform"].items())],
        ("posts (all)", t["posts"]), ("authors", t["authors"]), ("articles", t["articles"]),
        ("mentions", t["mentions"]), ("annotations", t["annotations"]), ("quarantined items", t["quarantined"]),
    ]))
    for b in report["budgets"].values():
        console.print(f"{b['label']} read budget {b['period']}: {b['spent']} of {b['budget']} spent; {b['state']}",
                      markup=False)
    jobs = {j["job"]: j for j in report["jobs"]}
    rows, messages = [], []
    for s in report["sources"]:
        job = jobs.pop(f"collect:{s['name']}", None)
        state = s["last_status"] or ""
        if job and job["consecutive_failures"]:
            state += f" ({job['consecutive_failures']} in a row)"
        rows.append((s["name"], s["posts"], (job["schedule"] if job else "").removeprefix("every "),
                     short_time(s["last_run"]), state))
        if s["last_error"]:
            messages.append(f"{s['name']}: {' '.join(s['last_error'].split())}")
    # the source name wraps rather than being cut (two Mastodon tags on one instance differ at the end)
    console.print(table("Sources", ["source", "posts", "every", "last run", "status"], rows, fold=["source"]))
    for line in messages:
        console.print(terminal_safe(line), markup=False, overflow="fold")
    if jobs:
        console.print(table("Other scheduled jobs", ["job", "schedule", "last run", "status", "last success",
                                                      "failures"], [
            (j["job"], j["schedule"], short_time(j["last_run"]), j["last_status"], short_time(j["last_success"]),
             j["consecutive_failures"] or "")
            for j in jobs.values()
        ], fold=["schedule"]))
    for d in report["deliveries"]:
        what = ("outcome unknown (maybe delivered; check the mail log for " + (d["message_id"] or "its Message-ID")
                + f"; `radpulse digest resend {d['email']} --week {d['period']}`)" if d["status"] == "unknown"
                else f"failed: {' '.join((d['error'] or '').split())}")
        console.print(terminal_safe(f"{d['kind']} {d['period']} to {d['email']}: {what}"), markup=False)
    for run in report["interrupted_runs"][:5]:
        console.print(f"Interrupted run: {run['source']} started {run['started_at']} (run {run['run_id']}): "
                      f"{run['reason']}", markup=False)
