"""What the Reddit platform declares: its [reddit] section, one source per subreddit, limits."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from radpulse.collectors import toml_edit
from radpulse.collectors.registry import AddRequest, Platform, RateLimit, register_platform
from radpulse.config import Section
from radpulse.records import SourceSpec


class SubredditSettings(Section):
    name: str
    #: when set, only submissions whose title or text contains one of these are kept
    keywords: list[str] = []
    comments: bool = False


class RedditSettings(Section):
    enabled: bool = True
    subreddits: list[SubredditSettings] = []
    user_agent: str = "radpulse/0.1 (radiology conversation monitor)"
    #: fetch comments of submissions with at least this score (with comments = true)
    comments_min_score: int = 20
    #: bound on MoreComments expansions per submission
    replace_more_limit: int = Field(3, ge=0)
    limit_per_run: int = Field(1000, ge=1, le=1000)
    #: requests per minute (Reddit allows 100 per OAuth client)
    requests_per_minute: int = Field(100, ge=1, le=100)


class RedditPlatform(Platform):
    collector_module = "radpulse.collectors.reddit.collector"
    name = section = "reddit"
    label = "Reddit"
    social = True
    add_kinds = ("subreddit",)
    default_interval_minutes = 30
    rate_limit = RateLimit(100, 60, "per OAuth client, averaged over 10 min")
    colour = "#ff4500"

    def settings_type(self) -> Any:
        return RedditSettings

    def expand(self, section: RedditSettings) -> list[SourceSpec]:
        if not section.enabled:
            return []
        return [SourceSpec(f"reddit:r/{s.name}", "reddit", "subreddit", s.name,
                           {"keywords": list(s.keywords), "comments": s.comments})
                for s in section.subreddits]

    def add(self, doc: Any, request: AddRequest) -> str | None:
        sub = request.value.removeprefix("/").removeprefix("r/")
        subs = toml_edit.array_of_tables(toml_edit.table(doc, "reddit"), "subreddits")
        if any(str(s.get("name", "")).lower() == sub.lower() for s in subs):
            return None
        subs.append(toml_edit.new_table(name=sub, keywords=list(request.keywords) or None))
        return f"reddit:r/{sub}"

    def remove(self, doc: Any, name: str) -> bool:
        sub = name.partition(":")[2].removeprefix("r/")
        return toml_edit.drop_first(doc.get("reddit"), "subreddits",
                                    lambda s: str(s.get("name", "")).lower() == sub.lower())


PLATFORM = register_platform(RedditPlatform())
