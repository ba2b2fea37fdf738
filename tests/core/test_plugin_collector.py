"""A platform is one registration: a toy collector declared in this test module appears in
`sources add/remove`, the config loader, `collect` and `status` with no other change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from radpulse.cli.main import cli
from radpulse.collectors import registry, toml_edit
from radpulse.collectors.base import Collector
from radpulse.collectors.registry import AddRequest, Platform, RateLimit
from radpulse.config import Section, default_config_data, load_settings, settings_from_dict
from radpulse.errors import ConfigError
from radpulse.records import Batch, PostRecord, SourceSpec

T0 = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)


class ToySettings(Section):
    enabled: bool = True
    words: list[str] = []
    per_page: int = 2


class ToyPlatform(Platform):
    name = section = "toy"
    label = "Toy"
    social = True
    add_kinds = ("toyword",)
    rate_limit = RateLimit(7, 60)

    def settings_type(self) -> Any:
        return ToySettings

    def expand(self, section: ToySettings) -> list[SourceSpec]:
        return [SourceSpec(f"toy:{w}", "toy", "word", w, {}) for w in section.words] if section.enabled else []

    def add(self, doc: Any, request: AddRequest) -> str | None:
        return f"toy:{request.value}" if toml_edit.append_unique(toml_edit.table(doc, "toy"), "words", request.value) else None

    def remove(self, doc: Any, name: str) -> bool:
        return toml_edit.drop_first(doc.get("toy"), "words", lambda w: w == name.partition(":")[2])


class ToyCollector(Collector):
    platform = "toy"
    kinds = ("word",)

    def collect(self, source: SourceSpec, cursor: Any) -> Iterator[Batch]:
        n = self.settings.toy.per_page
        yield Batch(posts=[PostRecord("toy", f"{source.value}-{i}", f"{source.value} {i}", T0) for i in range(n)],
                    cursor={"done": True})


@pytest.fixture
def toy():  # type: ignore[no-untyped-def]
    registry.register(ToyCollector)
    registry.register_platform(ToyPlatform())
    yield
    registry.unregister("toy")


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_registered_toy_platform_is_everywhere(toy, tmp_path):
    cfg = tmp_path / "radpulse.toml"
    base = ("--config", str(cfg), "--database-url", f"sqlite:///{tmp_path / 'r.db'}")
    assert run(*base, "init").exit_code == 0
    assert "toyword" in run(*base, "sources", "add", "--help").output
    added = run(*base, "sources", "add", "toyword", "scintigraphy")
    assert added.exit_code == 0 and "toy:scintigraphy" in added.output
    assert load_settings(cfg, environ={}).toy.words == ["scintigraphy"]  # the config knows [toy]
    collected = json.loads(run(*base, "collect", "--platform", "toy", "--json").stdout)
    assert [(r["source"], r["new"]) for r in collected] == [("toy:scintigraphy", 2)]
    status = json.loads(run(*base, "status", "--json").stdout)
    assert status["totals"]["posts_by_platform"]["toy"] == 2
    assert {"platform": "toy", "label": "Toy", "social": True, "sources": 1,
            "rate_limit": "7 requests / 1 min"} in status["platforms"]
    assert "toy" in registry.social_platforms()
    assert run(*base, "sources", "remove", "toy:scintigraphy").exit_code == 0
    assert load_settings(cfg, environ={}).toy.words == []


def test_the_toy_section_is_validated_and_forgotten_when_unregistered(toy):
    with pytest.raises(ConfigError) as err:
        settings_from_dict({**default_config_data(), "toy": {"per_page": "many"}}, environ={})
    assert "toy.per_page" in err.value.message
    registry.unregister("toy")
    with pytest.raises(ConfigError) as err:
        settings_from_dict({**default_config_data(), "toy": {}}, environ={})
    assert "toy: unknown key" in err.value.message
    registry.register(ToyCollector)
    registry.register_platform(ToyPlatform())
