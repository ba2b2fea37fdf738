"""Helpers for the analysis tests: sample posts and authors written to a database."""

from __future__ import annotations

import datetime as dt

from radpulse.db.models import Author, Post

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)

TEXTS = [
    "CTA negative for PE. #ChestRad",
    "Love being short staffed for the third weekend in a row",
    "MRN 12345678 chest CT shows a nodule",
    "Can someone read my MRI? Should I be worried?",
    "Our AI paper on stroke triage is out in Radiology",
    "Embolized a splenic pseudoaneurysm today #IRad",
]


def add_posts(db, texts=TEXTS, start: int = 0, when: dt.datetime = NOW) -> list[int]:
    """Insert posts (author a0..a2 on platform x); returns their ids."""
    ids = []
    with db.session() as s:
        for i, text in enumerate(texts, start=start):
            post = Post(platform="x", external_id=f"p{i}", author_external_id=f"a{i % 3}", text=text,
                        created_at=when, first_seen_at=when, collected_at=when, text_changed_at=when)
            s.add(post)
            s.flush()
            ids.append(post.id)
    return ids


def add_authors(db) -> None:
    with db.session() as s:
        for i, bio in enumerate(["Neuroradiologist, stroke imaging", "PGY-2 radiology resident",
                                 "Official account of the Society of Breast Imaging"]):
            s.add(Author(platform="x", external_id=f"a{i}", handle=f"h{i}", display_name=f"N{i}",
                         bio=bio, first_seen_at=NOW, updated_at=NOW))
