"""Fixtures of the analysis tests (the shared `db` fixture comes from tests/conftest.py)."""

from __future__ import annotations

import pytest
from analysis_helpers import add_authors, add_posts


@pytest.fixture
def posts_db(db):
    """The shared database with six posts and three authors."""
    add_posts(db)
    add_authors(db)
    return db
