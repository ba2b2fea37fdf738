"""What the PubMed platform declares: its [pubmed] section, one source per named query, limits."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from radpulse.collectors import toml_edit
from radpulse.collectors.registry import AddRequest, Platform, RateLimit, register_platform
from radpulse.config import MAX_SOURCE_NAME, Section
from radpulse.records import SourceSpec


class PubMedQuery(Section):
    name: str = Field(min_length=1, max_length=MAX_SOURCE_NAME)
    term: str


class PubMedSettings(Section):
    enabled: bool = True
    queries: list[PubMedQuery] = []
    email: str = ""
    tool: str = "radpulse"
    #: how far back the first run looks
    initial_days: int = Field(30, ge=1)


class PubMedPlatform(Platform):
    collector_module = "radpulse.collectors.pubmed.collector"
    stores_posts = False
    name = section = "pubmed"
    label = "PubMed"
    add_kinds = ("pubmed",)
    default_interval_minutes = 1440
    rate_limit = RateLimit(3, 1, "10 with NCBI_API_KEY")
    colour = "#326599"

    def settings_type(self) -> Any:
        return PubMedSettings

    def expand(self, section: PubMedSettings) -> list[SourceSpec]:
        if not section.enabled:
            return []
        return [SourceSpec(f"pubmed:{q.name}", "pubmed", "pubmed_query", q.term, {}) for q in section.queries]

    def add(self, doc: Any, request: AddRequest) -> str | None:
        queries = toml_edit.array_of_tables(toml_edit.table(doc, "pubmed"), "queries")
        qname = request.name or f"query-{len(queries) + 1}"
        if any(q.get("term") == request.value or q.get("name") == qname for q in queries):
            return None
        queries.append(toml_edit.new_table(name=qname, term=request.value))
        return f"pubmed:{qname}"

    def remove(self, doc: Any, name: str) -> bool:
        value = name.partition(":")[2]
        return toml_edit.drop_first(doc.get("pubmed"), "queries", lambda q: q.get("name") == value)


PLATFORM = register_platform(PubMedPlatform())
