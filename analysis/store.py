"""Annotating the database: only what is due, streamed in batches, one transaction per batch.

A post is due when it has no annotation from `Annotator.name`, when its text changed after it
was annotated (`Post.text_changed_at > Annotation.annotated_at`), or when its annotation was
made by another model version. Posts are read by keyset pagination on `Post.id`, so memory
stays bounded whatever the table size, and an interrupted run resumes where it stopped.
Authors are typed the same way: those never typed or typed by another model version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from radpulse.analysis.pipeline import Annotator
from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Author, Post
from radpulse.db.rollups import day_of, mark_author_days, mark_days, refresh_stale_rollups


@dataclass
class AnalyzeResult:
    """What one `analyze` run did."""

    new: int = 0
    changed: int = 0
    outdated: int = 0
    authors: int = 0

    @property
    def annotated(self) -> int:
        return self.new + self.changed + self.outdated


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: platform language tags that mean "no language" (X uses the q* codes for media-only posts etc.)
_NO_LANGUAGE = {"", "und", "zxx", "art", "qme", "qht", "qam", "qct", "qst"}


def _language(platform_tag: str | None, detected: str) -> str:
    """The platform's own language tag when it names a language, else the detected one."""
    return platform_tag if platform_tag and platform_tag.lower() not in _NO_LANGUAGE else detected


def _due_posts(annotator: Annotator):
    """SELECT of the posts due for annotation, with their current annotation (if any)."""
    ann = Annotation
    return (
        select(
            Post.id, Post.created_at, Post.title, Post.text, Post.has_media, Post.language.label("post_language"),
            ann.id.label("ann_id"), ann.model_version, ann.annotated_at, Post.text_changed_at,
        )
        .outerjoin(ann, and_(ann.post_id == Post.id, ann.model_name == annotator.name))
        .where(Post.is_deleted.is_(False))
        .where(
            or_(
                ann.id.is_(None),
                ann.model_version != annotator.version,
                Post.text_changed_at > ann.annotated_at,
            )
        )
        .order_by(Post.id)
    )


def count_due(db: Database, annotator: Annotator) -> int:
    """How many posts `annotate_posts` would annotate now."""
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(_due_posts(annotator).subquery())).scalar_one()


def post_text(title: str | None, text: str | None) -> str:
    """The text analysed for a post: title and body (Reddit submissions have both), without
    repeating a title that the body already starts with (or a truncated copy of it)."""
    if title and text:
        t = title.strip().rstrip(".…")
        if text.strip().startswith(t):
            return text
        return f"{title}\n{text}"
    return title or text or ""


def annotate_posts(
    db: Database,
    annotator: Annotator | None = None,
    *,
    batch_size: int = 1000,
    on_batch: Callable[[int], None] | None = None,
    now: Callable[[], dt.datetime] = _now,
) -> AnalyzeResult:
    """Annotate every due post (see the module docstring); `on_batch(n)` after each batch."""
    annotator = annotator or Annotator()
    result = AnalyzeResult()
    models = annotator.models()
    last_id = None
    base = _due_posts(annotator)
    # the WAL copied back into the database on another thread while the next batch is annotated
    with db.background_checkpoints() as checkpoint:
        while True:
            stmt = base if last_id is None else base.where(Post.id > last_id)
            # stamped before reading: a text changed while we annotate stays due for the next run
            stamp = now()
            with db.engine.connect() as conn:
                rows = conn.execute(stmt.limit(batch_size)).all()
            if not rows:
                break
            last_id = rows[-1].id
            found = annotator.annotate(
                [post_text(r.title, r.text) for r in rows],
                ids=[r.id for r in rows],
                has_media=[bool(r.has_media) for r in rows],
            )
            inserts, updates = [], []
            for row, a in zip(rows, found):
                values = {
                    "model_version": annotator.version,
                    "sentiment": a.sentiment,
                    "sentiment_score": a.sentiment_score,
                    "subspecialty": a.subspecialty,
                    "subspecialties": a.subspecialties,
                    "themes": a.themes,
                    "flags": a.flags,
                    # the platform's own language tag wins over detection on short texts
                    "language": _language(row.post_language, a.language),
                    "extra": {"models": models, "flag_reasons": a.flag_reasons} if a.flag_reasons
                    else {"models": models},
                    "annotated_at": stamp,
                }
                if row.ann_id is None:
                    result.new += 1
                    inserts.append({"post_id": row.id, "model_name": annotator.name, **values})
                else:
                    if row.model_version != annotator.version:
                        result.outdated += 1
                    else:
                        result.changed += 1
                    updates.append({"b_id": row.ann_id, **values})
            with db.engine.begin() as conn:
                if inserts:
                    conn.execute(insert(Annotation), inserts)
                if updates:
                    conn.execute(
                        update(Annotation).where(Annotation.id == bindparam("b_id")), updates
                    )
                mark_days(conn, {day_of(r.created_at) for r in rows})  # their rollups change
            checkpoint()
            if on_batch:
                on_batch(len(rows))
    return result


def type_authors(
    db: Database, annotator: Annotator | None = None, *, batch_size: int = 1000
) -> int:
    """Set `Author.author_type` on authors never typed or typed by another model version."""
    annotator = annotator or Annotator()
    model = annotator.author_model
    done = 0
    last_id = None
    base = (
        select(Author.id, Author.platform, Author.external_id, Author.handle, Author.display_name, Author.bio)
        .where(or_(Author.author_type_model.is_(None), Author.author_type_model != model))
        .order_by(Author.id)
    )
    while True:
        stmt = base if last_id is None else base.where(Author.id > last_id)
        with db.engine.connect() as conn:
            rows = conn.execute(stmt.limit(batch_size)).all()
        if not rows:
            return done
        last_id = rows[-1].id
        types = annotator.author_types(
            [(r.handle or "", r.display_name or "", r.bio or "") for r in rows]
        )
        updates = [
            {"b_id": r.id, "author_type": t, "author_type_model": model}
            for r, t in zip(rows, types)
        ]
        with db.engine.begin() as conn:
            conn.execute(update(Author).where(Author.id == bindparam("b_id")), updates)
            mark_author_days(conn, [(r.platform, r.external_id) for r in rows])
        done += len(rows)


def analyze(
    db: Database,
    annotator: Annotator | None = None,
    *,
    batch_size: int = 1000,
    on_batch: Callable[[int], None] | None = None,
) -> AnalyzeResult:
    """Annotate due posts and type due authors, then refresh the rollups and the stored trends
    (emerging terms, discovered topics: analysis/trends.py) of the days they changed."""
    from radpulse.analysis.trends import refresh_stale_trends

    annotator = annotator or Annotator()
    result = annotate_posts(db, annotator, batch_size=batch_size, on_batch=on_batch)
    result.authors = type_authors(db, annotator, batch_size=batch_size)
    refresh_stale_rollups(db)
    refresh_stale_trends(db)
    return result
