"""What the Bluesky platform declares: its [bluesky] section, its search queries, limits."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from radpulse.collectors import toml_edit
from radpulse.collectors.registry import AddRequest, Platform, RateLimit, register_platform
from radpulse.config import Section
from radpulse.records import SourceSpec


class BlueskySettings(Section):
    enabled: bool = True
    service_url: str = "https://bsky.social"
    queries: list[str] = []
    languages: list[str] = []
    limit: int = Field(100, ge=1, le=100)
    max_pages_per_run: int = Field(10, ge=1)

    @field_validator("service_url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        # the app password travels to this address: never in clear text
        if not url.lower().startswith("https://"):
            raise ValueError("must be an https:// address (the app password is sent to it), "
                             "e.g. https://bsky.social")
        return url


class BlueskyPlatform(Platform):
    collector_module = "radpulse.collectors.bluesky.collector"
    name = section = "bluesky"
    label = "Bluesky"
    social = True
    add_kinds = ("bluesky",)
    default_interval_minutes = 15
    rate_limit = RateLimit(3000, 5 * 60, "per IP; paced on RateLimit-* headers")
    colour = "#1185fe"

    def settings_type(self) -> Any:
        return BlueskySettings

    def expand(self, section: BlueskySettings) -> list[SourceSpec]:
        if not section.enabled:
            return []
        opts = {"languages": list(section.languages)}
        return [SourceSpec(f"bluesky:{q}", "bluesky", "query", q, opts) for q in section.queries]

    def add(self, doc: Any, request: AddRequest) -> str | None:
        added = toml_edit.append_unique(toml_edit.table(doc, "bluesky"), "queries", request.value)
        return f"bluesky:{request.value}" if added else None

    def remove(self, doc: Any, name: str) -> bool:
        value = name.partition(":")[2]
        return toml_edit.drop_first(doc.get("bluesky"), "queries", lambda v: v == value)


PLATFORM = register_platform(BlueskyPlatform())
