"""What the Crossref platform declares: its [crossref] section. Enrichment is a job run after the
collectors (`radpulse.collectors.crossref.enrich_articles`), not a collector: no sources."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from radpulse.collectors.registry import Platform, RateLimit, register_platform
from radpulse.config import Section
from radpulse.records import SourceSpec


class CrossrefSettings(Section):
    enabled: bool = True
    mailto: str = ""
    batch_size: int = Field(50, ge=1)


class CrossrefPlatform(Platform):
    stores_posts = False
    name = section = "crossref"
    label = "Crossref"
    default_interval_minutes = 60
    rate_limit = RateLimit(50, 1, "polite pool; paced on X-Rate-Limit-* headers")

    def settings_type(self) -> Any:
        return CrossrefSettings

    def expand(self, section: CrossrefSettings) -> list[SourceSpec]:
        return []  # the enrichment job reads its work list from the database


PLATFORM = register_platform(CrossrefPlatform())
