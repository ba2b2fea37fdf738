"""Fixtures of the Reddit collector tests (helpers in reddit_replay.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import responses
from reddit_replay import RedditReplay, cassette_body, load_cassette


@pytest.fixture
def replay(fixtures_dir: Path) -> RedditReplay:
    """A RedditReplay that answers the OAuth token request from a recorded cassette."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        rr = RedditReplay(mock)
        token = load_cassette(fixtures_dir, "TestSubredditListings.test_new.json")[0]
        rr.recorded[("POST", "/api/v1/access_token")] = [token]
        yield rr


@pytest.fixture
def new_listing(fixtures_dir: Path) -> dict[str, Any]:
    """The recorded /r/askreddit/new answer (100 real submissions)."""
    return cassette_body(fixtures_dir, "TestSubredditListings.test_new.json", "/new")
