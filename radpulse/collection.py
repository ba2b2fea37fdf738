"""One collection as the CLI and the scheduler run it: the collectors with their after-batch
steps, then Crossref enrichment as a job of its own (its own run record).

The runner knows nothing of what follows a stored batch; the steps are chosen here, by the
caller, and passed in: linking posts to the papers they cite, and marking the days whose
rollups the batch changed (refreshed once at the end of the run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from radpulse.collectors.crossref import enrich_articles
from radpulse.collectors.runner import AfterBatch, RunSummary, collect_sources, refresh_platforms
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.rollups import mark_batch_days
from radpulse.literature.linking import link_batch
from radpulse.records import SourceSpec

#: the name `radpulse collect --platform` accepts for the enrichment job
ENRICHMENT = "crossref"


def after_batch_steps() -> list[AfterBatch]:
    """The steps run after every stored batch, in its transaction."""
    return [link_batch, mark_batch_days]


def collect(
    db: Database,
    settings: Settings,
    specs: Sequence[SourceSpec],
    *,
    enrich: bool = True,
    on_source: Callable[[RunSummary], None] | None = None,
) -> list[RunSummary]:
    """Collect `specs`, then (when `enrich` and [crossref] is enabled) run Crossref enrichment."""
    steps = after_batch_steps()
    results = collect_sources(db, settings, specs, on_source=on_source, after_batch=steps)
    if enrich and settings.crossref.enabled:
        results.append(enrich_articles(db, settings, after_batch=steps))
        if on_source:
            on_source(results[-1])
    return results


def refresh(db: Database, settings: Settings, platforms: Sequence[str]) -> list[RunSummary]:
    """Re-read engagement of recent posts of `platforms`, with the same after-batch steps."""
    return refresh_platforms(db, settings, platforms, after_batch=after_batch_steps())
