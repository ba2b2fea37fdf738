"""What a reader selects, and the SQL it becomes.

`PostFilters` is shared by the dashboard's global filters, the CLI options, the digest and the
pandas API; `public_where` turns it into one WHERE clause that always applies the privacy rules
(deleted posts never, held posts only when explicitly asked for).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, and_, exists, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from radpulse.db.models import Annotation, Author, Post, PostSource, Source
from radpulse.db.queries.privacy import ANNOTATOR_NAME, held_clause


def _tuple(values: Sequence[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(v for v in values if v)


@dataclass(frozen=True)
class PostFilters:
    """A window of posts and the facets that narrow it (empty tuples select everything)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    platforms: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    subspecialties: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    author_types: tuple[str, ...] = ()
    include_held: bool = False
    include_deleted: bool = False
    extra: tuple[Any, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for name in ("platforms", "sources", "subspecialties", "themes", "sentiments", "languages", "author_types"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))

    def whole_days(self) -> bool:
        """True when the window starts and ends at UTC midnight (or is open): the day-keyed
        rollups answer it exactly."""
        return all(t is None or t.astimezone(dt.timezone.utc).time() == dt.time(0) for t in (self.start, self.end))

    @property
    def needs_annotation(self) -> bool:
        return bool(self.subspecialties or self.themes or self.sentiments)


class JsonArrayHasAny(ColumnElement[bool]):
    """SQL: the JSON array `column` contains any of `values` (SQLite json_each / PostgreSQL ?|)."""

    type = Boolean()
    inherit_cache = False

    def __init__(self, column: Any, values: Sequence[str]) -> None:
        self.column, self.values = column, list(values)

    @property
    def _from_objects(self) -> list:  # type: ignore[override]
        return getattr(self.column, "_from_objects", [])


@compiles(JsonArrayHasAny, "sqlite")
def _has_any_sqlite(element: JsonArrayHasAny, compiler: Any, **kw: Any) -> str:
    from sqlalchemy import bindparam

    col = compiler.process(element.column, **kw)
    values = compiler.process(bindparam(None, element.values, expanding=True), **kw)
    return f"EXISTS (SELECT 1 FROM json_each({col}) AS je WHERE je.value IN {values})"


@compiles(JsonArrayHasAny, "postgresql")
def _has_any_pg(element: JsonArrayHasAny, compiler: Any, **kw: Any) -> str:
    from sqlalchemy import bindparam
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.types import Text

    col = compiler.process(element.column, **kw)
    values = compiler.process(bindparam(None, element.values, type_=ARRAY(Text)), **kw)
    return f"({col} ?| {values})"


def annotation_where(f: PostFilters, a: Any = Annotation) -> Any:
    """Conditions on the pipeline's annotation row `a` for the label facets of `f`."""
    clauses = [a.model_name == ANNOTATOR_NAME]
    if f.subspecialties:
        clauses.append(a.subspecialty.in_(f.subspecialties))
    if f.themes:
        clauses.append(JsonArrayHasAny(a.themes, f.themes))
    if f.sentiments:
        clauses.append(a.sentiment.in_(f.sentiments))
    return and_(*clauses)


def public_where(f: PostFilters, p: Any = Post) -> Any:
    """One WHERE clause for the posts `f` selects, the privacy rules always applied.

    `p` is `Post` (ORM) or `Post.__table__.c`.
    """
    clauses: list[Any] = []
    if not f.include_deleted:
        clauses.append(p.is_deleted.is_(False))
    if not f.include_held:
        clauses.append(~held_clause(p.id))
    if f.start is not None:
        clauses.append(p.created_at >= f.start)
    if f.end is not None:
        clauses.append(p.created_at < f.end)
    if f.platforms:
        clauses.append(p.platform.in_(f.platforms))
    if f.languages:
        clauses.append(p.language.in_(f.languages))
    if f.sources:
        clauses.append(exists().where(PostSource.post_id == p.id, PostSource.source_id == Source.id,
                                      Source.name.in_(f.sources)))
    if f.author_types:  # aliases: the outer query may select from the same tables
        au = Author.__table__.alias("pf_author")
        clauses.append(exists().where(au.c.platform == p.platform, au.c.external_id == p.author_external_id,
                                      au.c.author_type.in_(f.author_types)))
    if f.needs_annotation:
        an = Annotation.__table__.alias("pf_annotation")
        clauses.append(exists().where(an.c.post_id == p.id, annotation_where(f, an.c)))
    clauses.extend(f.extra)
    return and_(true(), *clauses)


def public_select(f: PostFilters, *columns: Any) -> Any:
    """`SELECT columns FROM posts WHERE public_where(f)`."""
    return select(*columns).select_from(Post.__table__).where(public_where(f, Post.__table__.c))
