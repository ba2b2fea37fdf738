"""What the X platform declares: its [x] section, its sources (hashtags and queries), limits."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from radpulse.collectors import toml_edit
from radpulse.collectors.registry import AddRequest, Platform, RateLimit, register_platform
from radpulse.config import Section
from radpulse.records import SourceSpec


class XSettings(Section):
    enabled: bool = True
    hashtags: list[str] = []
    queries: list[str] = []
    exclude_retweets: bool = True
    languages: list[str] = []
    #: posts read per calendar month (X bills each read); collection stops before it is spent
    monthly_read_budget: int = Field(10_000, ge=0)
    max_results: int = Field(100, ge=10, le=100)
    max_pages_per_run: int = Field(10, ge=1)


class XPlatform(Platform):
    collector_module = "radpulse.collectors.x.collector"
    name = section = "x"
    label = "X"
    social = True
    add_kinds = ("hashtag", "query")
    default_interval_minutes = 15
    rate_limit = RateLimit(450, 15 * 60, "recent search, per app; reads billed per post")
    colour = "#6b7280"

    def settings_type(self) -> Any:
        return XSettings

    def expand(self, section: XSettings) -> list[SourceSpec]:
        if not section.enabled:
            return []
        opts = {"exclude_retweets": section.exclude_retweets, "languages": list(section.languages)}
        return ([SourceSpec(f"x:{t}", "x", "hashtag", t, opts) for t in section.hashtags]
                + [SourceSpec(f"x:{q}", "x", "query", q, opts) for q in section.queries])

    def add(self, doc: Any, request: AddRequest) -> str | None:
        value = request.value
        if request.kind == "hashtag":
            value = value if value.startswith("#") else f"#{value}"
        key = "hashtags" if request.kind == "hashtag" else "queries"
        return f"x:{value}" if toml_edit.append_unique(toml_edit.table(doc, "x"), key, value) else None

    def remove(self, doc: Any, name: str) -> bool:
        value = name.partition(":")[2]
        x = doc.get("x")
        return (toml_edit.drop_first(x, "hashtags", lambda v: v == value)
                or toml_edit.drop_first(x, "queries", lambda v: v == value))

    def monthly_budget(self, settings: Any) -> int | None:
        return int(settings.x.monthly_read_budget)


PLATFORM = register_platform(XPlatform())
