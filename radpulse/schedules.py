"""What runs when: each source's collection interval and every job's schedule, as data.

A source is collected every `[schedule] source_intervals["<source name>"]` minutes, else
`source_intervals["<platform>"]`, else its platform's `default_interval_minutes` (declared in
collectors/<platform>/source.py: X, Mastodon and Bluesky 15, Reddit 30, feeds and Crossref 60,
PubMed daily), else `[schedule] collect_every_minutes`. The scheduler and `radpulse status`
both read this module, so what status shows is what runs.
"""

from __future__ import annotations

from radpulse.config import Settings
from radpulse.records import SourceSpec


def source_interval(settings: Settings, spec: SourceSpec) -> int:
    """Minutes between two collections of `spec`."""
    from radpulse.collectors.registry import platform_for_source

    own = settings.schedule.source_intervals
    if spec.name in own:
        return own[spec.name]
    if spec.platform in own:
        return own[spec.platform]
    declared = platform_for_source(spec.name)
    default = declared.default_interval_minutes if declared else None
    return default or settings.schedule.collect_every_minutes


def collect_job_name(spec: SourceSpec) -> str:
    return f"collect:{spec.name}"


def every(minutes: int) -> str:
    if minutes % 1440 == 0:
        return "daily" if minutes == 1440 else f"every {minutes // 1440} days"
    if minutes % 60 == 0:
        return "hourly" if minutes == 60 else f"every {minutes // 60} h"
    return f"every {minutes} min"


def job_schedules(settings: Settings) -> dict[str, str]:
    """Every scheduled job's name -> its schedule in words."""
    from radpulse.sources import expand_sources

    s = settings.schedule
    jobs = {collect_job_name(spec): every(source_interval(settings, spec)) for spec in expand_sources(settings)}
    jobs["refresh"] = every(s.refresh_every_hours * 60)
    jobs["analyze"] = f"after collections that add posts, and {every(s.analyze_every_minutes)}"
    if settings.refresh.deletion_sweep_days > 0:
        jobs["sweep"] = "daily"
    if settings.digest.enabled:
        jobs["digest"] = f"cron '{s.digest_cron}' ({s.timezone})"
    if settings.alerts.spike_enabled:
        jobs["alerts"] = f"cron '{settings.alerts.alerts_cron}' ({s.timezone})"
    return jobs
