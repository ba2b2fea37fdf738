"""What the Mastodon platform declares: which tags are read on which instance, and limits.

The [mastodon] section says it per instance:

    [[mastodon.timelines]]
    instance = "med-mastodon.com"
    hashtags = ["radiology", "radres"]

so that adding or removing one (instance, tag) changes exactly that one. The older shape,
`instances = [...]` with `hashtags = [...]` read on every one of them, still loads (it means
each listed instance with all those tags); `radpulse sources add/remove mastodon ...` rewrites
it into the per-instance shape before editing.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from radpulse.collectors import toml_edit
from radpulse.collectors.registry import AddRequest, Platform, RateLimit, register_platform
from radpulse.config import Section
from radpulse.errors import InputError
from radpulse.records import SourceSpec


class Timeline(Section):
    instance: str = Field(min_length=1)
    hashtags: list[str] = []


class MastodonSettings(Section):
    enabled: bool = True
    timelines: list[Timeline] = []
    limit: int = Field(40, ge=1, le=40)
    max_pages_per_run: int = Field(10, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _accept_old_shape(cls, data: Any) -> Any:
        if not isinstance(data, dict) or ("instances" not in data and "hashtags" not in data):
            return data
        data = dict(data)
        instances, tags = data.pop("instances", []) or [], data.pop("hashtags", []) or []
        data["timelines"] = [*(data.get("timelines") or []), *({"instance": i, "hashtags": list(tags)} for i in instances)]
        return data

    def pairs(self) -> list[tuple[str, str]]:
        """Every (instance, tag) read, once each, in config order."""
        seen: dict[tuple[str, str], None] = {}
        for t in self.timelines:
            for tag in t.hashtags:
                seen[(t.instance, tag.lstrip("#"))] = None
        return list(seen)


def _per_instance(mastodon: Any) -> Any:
    """Rewrite the old `instances` x `hashtags` keys of a document's [mastodon] into timelines."""
    timelines = toml_edit.array_of_tables(mastodon, "timelines")
    if "instances" in mastodon or "hashtags" in mastodon:
        tags = [str(t).lstrip("#") for t in mastodon.get("hashtags", [])]
        for instance in mastodon.get("instances", []):
            timelines.append(toml_edit.new_table(instance=str(instance), hashtags=list(tags)))
        for key in ("instances", "hashtags"):
            if key in mastodon:
                del mastodon[key]
    return timelines


class MastodonPlatform(Platform):
    collector_module = "radpulse.collectors.mastodon.collector"
    name = section = "mastodon"
    label = "Mastodon"
    social = True
    add_kinds = ("mastodon",)
    default_interval_minutes = 15
    rate_limit = RateLimit(300, 5 * 60, "per instance")
    colour = "#6364ff"

    def settings_type(self) -> Any:
        return MastodonSettings

    def expand(self, section: MastodonSettings) -> list[SourceSpec]:
        if not section.enabled:
            return []
        return [SourceSpec(f"mastodon:{inst}#{tag}", "mastodon", "tag", tag, {"instance": inst})
                for inst, tag in section.pairs()]

    def add(self, doc: Any, request: AddRequest) -> str | None:
        tag = request.value.lstrip("#")
        timelines = _per_instance(toml_edit.table(doc, "mastodon"))
        instances = [request.instance.strip().lower()] if request.instance else [str(t["instance"]) for t in timelines]
        if not instances:
            raise InputError("No Mastodon instance is configured to read this tag on.",
                             hint="Name one: radpulse sources add mastodon TAG --instance med-mastodon.com")
        added = []
        for instance in dict.fromkeys(instances):
            timeline = next((t for t in timelines if str(t["instance"]) == instance), None)
            if timeline is None:
                timelines.append(toml_edit.new_table(instance=instance, hashtags=[tag]))
                added.append(instance)
            elif toml_edit.append_unique(timeline, "hashtags", tag):
                added.append(instance)
        return ", ".join(f"mastodon:{i}#{tag}" for i in added) or None

    def remove(self, doc: Any, name: str) -> bool:
        instance, _, tag = name.partition(":")[2].partition("#")
        if "mastodon" not in doc or not instance or not tag:
            return False
        timelines = _per_instance(doc["mastodon"])
        for i, timeline in enumerate(list(timelines)):
            if str(timeline["instance"]) == instance and toml_edit.drop_first(
                    timeline, "hashtags", lambda v: str(v).lstrip("#") == tag):
                if not timeline["hashtags"]:
                    del timelines[i]
                return True
        return False


PLATFORM = register_platform(MastodonPlatform())
