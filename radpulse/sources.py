"""Tracked sources: expanded from the config and kept in step with the `sources` table."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import Source
from radpulse.records import SourceSpec, utcnow


def expand_sources(settings: Settings) -> list[SourceSpec]:
    """Every source the config tracks, with a stable unique name per source (each platform
    declares how its section expands; see `radpulse.collectors.registry`)."""
    from radpulse.collectors.registry import declared_platforms

    return [spec for p in declared_platforms() for spec in p.expand(settings.section(p.section))]


def sync_sources(db: Database, settings: Settings) -> list[SourceSpec]:
    """Make the sources table match the config: add new, update changed, disable removed.

    Returns the enabled sources with their database ids. Data of removed sources is kept.
    """
    wanted = {s.name: s for s in expand_sources(settings)}
    now = utcnow()
    out: list[SourceSpec] = []
    with db.session() as session:
        existing = {s.name: s for s in session.scalars(select(Source))}
        for name, spec in wanted.items():
            row = existing.get(name)
            if row is None:
                row = Source(name=name, platform=spec.platform, kind=spec.kind, value=spec.value,
                             settings=spec.settings, enabled=True, created_at=now)
                session.add(row)
            else:
                row.platform, row.kind, row.value, row.settings = spec.platform, spec.kind, spec.value, spec.settings
                row.enabled = True
        for name, row in existing.items():
            if name not in wanted and not row.synthetic:
                row.enabled = False
        session.flush()
        rows = session.scalars(select(Source).where(Source.enabled.is_(True)).order_by(Source.id))
        out = [spec_of(r) for r in rows]
    return out


def spec_of(row: Source) -> SourceSpec:
    return SourceSpec(row.name, row.platform, row.kind, row.value, dict(row.settings or {}), row.id)


def select_sources(
    specs: Iterable[SourceSpec], names: Iterable[str] = (), platforms: Iterable[str] = ()
) -> list[SourceSpec]:
    """Filter by exact name (or name without the platform prefix) and by platform."""
    names, platforms = set(names), set(platforms)
    out = []
    for s in specs:
        short = s.name.split(":", 1)[-1]
        if names and s.name not in names and short not in names:
            continue
        if platforms and s.platform not in platforms:
            continue
        out.append(s)
    return out
