"""The drill-down list of posts (`post_page`) under every filter the dashboard offers: time and plan.

    python benchmarks/bench_post_page.py --db demo.db [--postgres URL] [--repeat 3]

For each filter (global filters, the drill-down facets a click adds, a clicked day or week, a
year) and both orders (most engaged, newest), page 1 and page 11 of `dashboards.data.drill_posts`
(what the Posts page runs): the best of `--repeat` runs in ms, and the plan of the most-engaged
first page (which index is read; a "TEMP B-TREE FOR ORDER BY" / "Sort" sorts the window's posts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from sqlalchemy import select

END = dt.date(2026, 11, 27)


def _cases(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from radpulse.db.models import Author, Mention, Post, Source

    with db.engine.connect() as conn:
        source = conn.execute(select(Source.name).limit(1)).scalar() or "none"
        author = conn.execute(select(Post.platform, Post.author_external_id).where(Post.author_external_id.is_not(None))
                              .order_by(Post.id.desc()).limit(1)).one()
        article = conn.execute(select(Mention.article_id).order_by(Mention.id.desc()).limit(1)).scalar() or 1
        atype = conn.execute(select(Author.author_type).where(Author.author_type.is_not(None)).limit(1)).scalar() or "unknown"
    window = f"from={END - dt.timedelta(days=89)}&to={END}"
    return {
        "90 days": window,
        "365 days": f"from={END - dt.timedelta(days=364)}&to={END}",
        "clicked day": f"from={END - dt.timedelta(days=3)}&to={END - dt.timedelta(days=3)}",
        "clicked week + platform": f"from={END - dt.timedelta(days=13)}&to={END - dt.timedelta(days=7)}&platform=x",
        "platform": window + "&platform=reddit",
        "source": window + f"&source={source}",
        "subspecialty": window + "&subspecialty=neuro",
        "theme": window + "&theme=ai",
        "language": window + "&language=en",
        "author type": window + f"&author_type={atype}",
        "sentiment (click)": window + "&sentiment=negative",
        "subspecialty x sentiment (click)": window + "&subspecialty=breast&sentiment=positive",
        "hashtag (click)": window + "&hashtag=rsna2026",
        "hashtag + week (click)": f"from={END - dt.timedelta(days=6)}&to={END}&hashtag=rsna2026",
        "account": window + f"&account={author[0]}:{author[1]}",
        "paper": window + f"&article={article}",
        "every global filter": window + f"&platform=x&source={source}&subspecialty=neuro&theme=ai&language=en&author_type={atype}",
    }


def run(url: str, repeat: int) -> None:
    from sqlalchemy import event

    from radpulse.dashboards.data import drill_posts
    from radpulse.dashboards.state import parse_query
    from radpulse.db.engine import open_database

    db = open_database(url)
    seen: list[tuple[str, object]] = []

    @event.listens_for(db.engine, "after_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM posts" in statement and "LIMIT" in statement:
            seen.append((statement, parameters))

    print(f"{db.dialect}: the Posts page's query (ms, best of {repeat}); plan of the most-engaged first page")
    print(f"{'filter':<34}{'eng p1':>8}{'eng p11':>9}{'new p1':>8}{'new p11':>9}  plan")
    for name, query in _cases(db).items():
        state = parse_query(query, data_end=END)
        assert not state.problems, state.problems
        drill = state.drill | ({"sentiment": state.params["sentiment"]} if state.params.get("sentiment") else {})
        times = []
        for order in ("engagement", "newest"):
            for offset in (0, 250):
                best = float("inf")
                for _ in range(repeat):
                    seen.clear()
                    start = time.perf_counter()
                    drill_posts(db, state.filters, drill, order=order, limit=26, offset=offset)
                    best = min(best, 1000 * (time.perf_counter() - start))
                if order == "engagement" and offset == 0:
                    statement, parameters = seen[-1]
                times.append(best)
        with db.engine.connect() as conn:
            if db.dialect == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                outer = [r[3] for r in rows if r[1] == 0]
                plan = "; ".join(outer[:1] + [o for o in outer[1:] if "B-TREE" in o])
            else:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
                plan = "; ".join(r[0].strip() for r in rows if "Scan" in r[0] or "Sort" in r[0])[:160]
        print(f"{name:<34}" + "".join(f"{t:>8,.0f} " for t in times) + f" {plan}")
    db.dispose()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="demo SQLite file")
    ap.add_argument("--postgres", metavar="URL", help="a PostgreSQL database holding the demo")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    for url in filter(None, [f"sqlite:///{args.db}" if args.db else None, args.postgres]):
        run(url, args.repeat)


if __name__ == "__main__":
    main()
