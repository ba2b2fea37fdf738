"""One date filter (`--since 7d | 2026-11-01 | ISO`) for every command and the pandas API."""

from __future__ import annotations

import datetime as dt

import click
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from radpulse import api
from radpulse.cli.main import cli
from radpulse.cli.params import KnownName, When
from radpulse.errors import InputError
from radpulse.timewindow import parse_when, parse_window
from tests.core.test_docs import command_paths

NOW = dt.datetime(2026, 11, 8, 12, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", NOW - dt.timedelta(days=7)),
    (" 24h ", NOW - dt.timedelta(hours=24)),
    ("2W", NOW - dt.timedelta(weeks=2)),
    ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
    ("2026-11-01T08:30:00+01:00", dt.datetime(2026, 11, 1, 7, 30, tzinfo=dt.UTC)),
    ("2026-11-01T08:30Z", dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)),
    ("2026-11-01 08:30", dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)),
    (dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, tzinfo=dt.UTC)),
    (dt.datetime(2026, 1, 2, 3), dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC)),
    (pd.Timestamp("2026-01-02T03:00", tz="Europe/Paris"), dt.datetime(2026, 1, 2, 2, tzinfo=dt.UTC)),
    ("all", None), ("", None), (None, None),
])
def test_every_form_gives_an_aware_utc_time(text, expected):
    got = parse_when(text, NOW)
    assert got == expected
    if got is not None:
        assert got.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(("text", "needle"), [
    ("last tuesday", "is not a date or a span"), ("3m", "unknown unit 'm'"), ("1y", "unknown unit 'y'"),
    ("2026-13-01", "is not a date"), ("-7d", "is not a date"),
])
def test_bad_values_say_which_forms_work(text, needle):
    with pytest.raises(InputError) as info:
        parse_when(text, NOW, name="--since")
    assert needle in info.value.message and f"--since {text!r}" in info.value.message
    assert "7d" in info.value.hint


@given(st.integers(0, 10_000), st.sampled_from(["h", "d", "w"]))
def test_spans_count_back_from_now(n, unit):
    step = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}[unit]
    assert NOW - parse_when(f"{n}{unit}", NOW) == n * step


def test_an_empty_window_is_an_error_not_zero_rows():
    assert parse_window("7d", None, NOW) == (NOW - dt.timedelta(days=7), None)
    with pytest.raises(InputError, match="The window is empty"):
        parse_window("2026-11-02", "2026-11-01", NOW)


def test_the_api_uses_the_same_parser():
    assert api.parse_when is parse_when


def _options():  # type: ignore[no-untyped-def]
    for path in command_paths(cli):
        command = cli
        for name in path:
            command = command.get_command(click.Context(command), name)
        for param in command.params:
            yield " ".join(path), param


def test_every_since_and_until_option_uses_the_shared_parser():
    dated = [(path, p.name) for path, p in _options() if {"--since", "--until"} & set(p.opts)]
    assert len(dated) >= 6  # articles top, export posts/articles, trends emerging/topics
    wrong = [(path, name) for path, p in _options() if {"--since", "--until"} & set(p.opts)
             for name in [p.name] if not isinstance(p.type, When)]
    assert not wrong, f"--since/--until options with their own parser: {wrong}"


#: options naming a platform, topic, source or flag that take free text, and why
FREE_TEXT = {("collect", "names"): "short names such as r/Radiology are matched by radpulse.sources.select_sources"}


def test_every_platform_topic_source_and_flag_option_checks_its_value():
    named = [(path, p) for path, p in _options() if isinstance(p, click.Option)
             and p.name in {"platform", "platforms", "topic", "topics", "source", "sources", "names", "flag"}]
    assert len(named) >= 9
    wrong = [(path, p.name) for path, p in named if not isinstance(p.type, KnownName) and (path, p.name) not in FREE_TEXT]
    assert not wrong, f"options that accept any value: {wrong}"
