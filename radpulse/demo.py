"""The offline demo: a realistic, deterministic, clearly synthetic year of radiology conversation.

`build_demo(db, posts=N, seed=S, end=date)` writes posts on X, Reddit, Mastodon and Bluesky about
radiology subspecialties and themes, with heavy-tailed engagement, conference spikes (RSNA late
November to early December, ECR late February to early March), authors of several kinds,
journal articles, and posts citing them by DOI, doi.org, PubMed or journal URLs. Every row is
marked synthetic. The same seed and end date always give the same data; it streams in batches
so a million posts fit in well under 1 GB.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, insert, select, text

from radpulse.db.engine import Database
from radpulse.db.models import Mention, Meta, Post, PostSource, Source
from radpulse.db.rollups import rebuild_rollups
from radpulse.db.store import insert_for, upsert_articles, upsert_authors, upsert_posts
from radpulse.demo_vocab import (
    AUTHOR_KINDS,
    FIRST,
    FLAGGED,
    JOURNALS,
    LAST,
    NEGATIVE,
    NEUTRAL,
    NON_ENGLISH,
    ORGS,
    POSITIVE,
    REPORT_PHRASES,
    SUBSPECIALTIES,
    THEMES,
    TITLE_PATTERNS,
)
from radpulse.records import ArticleRecord, AuthorRecord, PostRecord, utcnow

PLATFORMS = ("x", "reddit", "mastodon", "bluesky")
PLATFORM_SHARE = np.array([0.42, 0.16, 0.14, 0.28])
#: log-scale baseline of likes per platform (X and Bluesky posts get more than toots)
PLATFORM_LIKE_MU = {"x": 1.6, "reddit": 2.0, "mastodon": 0.9, "bluesky": 1.4}
SUB_WEIGHTS = {"neuro": 14, "msk": 9, "chest": 13, "cardiac": 6, "abdominal": 12, "breast": 10,
               "pediatric": 5, "ir": 9, "nuclear": 6, "emergency": 6}
SENTENCES = [
    "{Phrase}: {term}.",
    "{lead} {phrase} — this time {term}.",
    "Discussing {term} today, and {phrase}.",
    "{Term} and {phrase}: what is your experience?",
    "Thread on {term}. {Phrase}.",
    "{lead} {term} in our department; {phrase}.",
]
SENTENCES_CITING = [
    "{Phrase}: \"{title}\"",
    "New in the literature: {title}.",
    "Worth reading on {term}: {title}.",
]
CITE_SHARE = 0.08
FLAG_SHARE = 0.012
NON_ENGLISH_SHARE = 0.03
BATCH = 20_000


@dataclass
class DemoSummary:
    posts: int
    authors: int
    articles: int
    mentions: int
    seed: int
    start: dt.date
    end: dt.date


def conference_weight(day: dt.date) -> float:
    """Multiplier of the day's volume for RSNA (late Nov to early Dec) and ECR (late Feb to early Mar)."""
    # RSNA runs Sunday to Thursday after US Thanksgiving (fourth Thursday of November)
    nov1 = dt.date(day.year, 11, 1)
    thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
    rsna = thanksgiving + dt.timedelta(days=3)
    if rsna - dt.timedelta(days=3) <= day <= rsna + dt.timedelta(days=4):
        return 4.0 if rsna <= day <= rsna + dt.timedelta(days=4) else 1.8
    # ECR: about 26 February to 2 March
    ecr = dt.date(day.year, 2, 26)
    if ecr - dt.timedelta(days=2) <= day <= ecr + dt.timedelta(days=4):
        return 3.0 if ecr <= day <= ecr + dt.timedelta(days=4) else 1.5
    return 1.0


def conference_tags(day: dt.date) -> list[str]:
    if conference_weight(day) <= 1.0:
        return []
    if day.month in (11, 12):
        return [f"RSNA{day.year}", f"RSNA{str(day.year)[-2:]}"]
    return [f"ECR{day.year}", "ECR"]


def _day_weights(start: dt.date, days: int) -> np.ndarray:
    w = np.empty(days)
    for i in range(days):
        d = start + dt.timedelta(days=i)
        weekday = 0.6 if d.weekday() >= 5 else 1.0
        growth = 0.8 + 0.4 * i / max(days - 1, 1)
        w[i] = weekday * growth * conference_weight(d)
    return w / w.sum()


class _Generator:
    def __init__(self, seed: int, n_posts: int, end: dt.date) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.end = end
        self.start = end - dt.timedelta(days=364)
        self.day_p = _day_weights(self.start, 365)
        self.n_authors = max(200, n_posts // 20)
        self.n_articles = max(50, n_posts // 60)
        self.subs = list(SUB_WEIGHTS)
        self.sub_p = np.array([SUB_WEIGHTS[s] for s in self.subs], dtype=float)
        self.sub_p /= self.sub_p.sum()
        self.themes = list(THEMES)
        self.kinds = list(AUTHOR_KINDS)
        self.kind_p = np.array([AUTHOR_KINDS[k][0] for k in self.kinds])
        self.kind_p /= self.kind_p.sum()
        self.authors = self._authors()
        # Zipf-like activity: a few accounts post a lot
        act = 1.0 / np.arange(1, self.n_authors + 1) ** 0.9
        self.author_p = act / act.sum()
        self.articles = self._articles()
        self.network = _Interactions(seed, self.authors)

    # -- people and papers -------------------------------------------------------------
    def _authors(self) -> list[tuple[str, AuthorRecord, str]]:
        rng, out = self.rng, []
        kinds = self.np.choice(len(self.kinds), size=self.n_authors, p=self.kind_p)
        followers = np.floor(self.np.lognormal(6.0, 1.6, size=self.n_authors)).astype(int)
        for i in range(self.n_authors):
            kind = self.kinds[int(kinds[i])]
            platform = PLATFORMS[i % 4]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            sub = rng.choice(self.subs)
            bio = rng.choice(AUTHOR_KINDS[kind][1]).format(
                sub=sub.upper() if sub in ("ir", "msk") else sub.capitalize(), org=rng.choice(ORGS), n=rng.randint(2, 5))
            if kind in ("organisation", "industry"):
                name = f"{rng.choice(ORGS).split()[0]} {'Radiology' if kind == 'organisation' else 'Imaging AI'}"
                handle = name.replace(" ", "") + str(i)
            else:
                name = f"Dr {first} {last}" if kind in ("radiologist", "other_clinician") else f"{first} {last}"
                handle = f"{first.lower()}{last.lower()}{i}"
            if platform == "mastodon":
                handle = f"{handle}@med-mastodon.example"
            fol = int(followers[i] * (8 if kind == "organisation" else 1))
            ext = f"demo-{self.seed}-a{i}"
            out.append((platform, AuthorRecord(platform, ext, handle=handle, display_name=name, bio=bio,
                                               followers=fol, url=None), kind))
        return out

    def _articles(self) -> list[ArticleRecord]:
        rng, out = self.rng, []
        for i in range(self.n_articles):
            journal, pattern, host = JOURNALS[i % len(JOURNALS)]
            pub = self.start + dt.timedelta(days=rng.randrange(365))
            yr = pub.year
            doi = pattern.format(yr=yr, yy=str(yr)[-2:], n=10000 + i * 7 + self.seed % 7, m=i % 1000,
                                 c=rng.randint(0, 9)).lower()
            sub = self.rng.choice(self.subs)
            term = rng.choice(SUBSPECIALTIES[sub]["terms"])
            title = rng.choice(TITLE_PATTERNS).format(term=term, Term=term[:1].upper() + term[1:], year=yr)
            pmid = str(39_000_000 + self.seed * 100_000 % 900_000 + i)
            authors = [f"{rng.choice(LAST)} {rng.choice(FIRST)[0]}" for _ in range(rng.randint(2, 8))]
            out.append(ArticleRecord(doi=doi, pmid=pmid, url=f"https://{host}/doi/{doi}", title=title, journal=journal,
                                     authors=authors, published_date=pub, source="demo",
                                     abstract=f"Synthetic abstract about {term}."))
        return out

    # -- posts ---------------------------------------------------------------------------
    def citation(self, art: ArticleRecord) -> tuple[str, str]:
        style = self.rng.randrange(4)
        if style == 0:
            return f"https://doi.org/{art.doi}", "doi"
        if style == 1:
            return f"doi:{art.doi}", "doi"
        if style == 2:
            return f"https://pubmed.ncbi.nlm.nih.gov/{art.pmid}/", "pmid"
        return art.url or f"https://doi.org/{art.doi}", "url"

    def text_for(self, day: dt.date, art: ArticleRecord | None) -> tuple[str, list[str], str | None, str]:
        rng = self.rng
        sub = self.subs[int(self.np.choice(len(self.subs), p=self.sub_p))] if rng.random() < 0.8 else None
        term = rng.choice(SUBSPECIALTIES[sub]["terms"]) if sub else rng.choice(REPORT_PHRASES)
        roll = rng.random()
        if roll < FLAG_SHARE:
            flag = rng.choice(list(FLAGGED))
            body = rng.choice(FLAGGED[flag]).format(org=rng.choice(ORGS), term=term, report=rng.choice(REPORT_PHRASES))
            return body, [], None, "en"
        if roll < FLAG_SHARE + NON_ENGLISH_SHARE:
            lang = rng.choice(list(NON_ENGLISH))
            return rng.choice(NON_ENGLISH[lang]).format(term=term), [], None, lang
        theme = rng.choice(self.themes)
        phrase = rng.choice(THEMES[theme]["phrases"])
        mood = rng.random()
        tone = rng.choice(POSITIVE) if mood < 0.35 else rng.choice(NEGATIVE) if mood < 0.5 else ""
        if art is not None:
            body = rng.choice(SENTENCES_CITING).format(Phrase=phrase[:1].upper() + phrase[1:], title=art.title, term=term)
        else:
            body = rng.choice(SENTENCES).format(phrase=phrase, Phrase=phrase[:1].upper() + phrase[1:], term=term,
                                                Term=term[:1].upper() + term[1:], lead=rng.choice(NEUTRAL))
        if tone:
            body = f"{tone}! {body}" if rng.random() < 0.5 else f"{body} {tone}."
        if rng.random() < 0.15:
            body += " " + rng.choice(["\U0001F525", "\U0001F44F", "\U0001F914", "\U0001F62B", "\U0001F4DA"])
        tags = []
        pool = (SUBSPECIALTIES[sub]["tags"] if sub else []) + THEMES[theme]["tags"] + ["Radiology"]
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            tags.append(rng.choice(pool))
        tags += conference_tags(day)[: rng.choice((0, 1, 1))] if conference_weight(day) > 1 else []
        return body, sorted(set(tags), key=tags.index), sub, "en"

    def collection_order(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The day (0-364) and second of the day of `n` posts, in the order a scheduled collection
        stores them: run after run (hourly), each run's posts newest first, as search and timeline
        pages return them. The database's ids then follow time as in a collected database (the
        same hour's posts close together), not at random over the year."""
        days = self.np.choice(365, size=n, p=self.day_p)
        secs = self.np.integers(0, 86_400, size=n)
        stamp = days.astype(np.int64) * 86_400 + secs
        order = np.lexsort((-stamp, stamp // 3_600))
        return days[order], secs[order]

    def posts(self, n: int, on_batch: Callable[[list[PostRecord], list[tuple[int, int, str, str]]], None]) -> None:
        """Generate `n` posts in batches; `on_batch(posts, citations)` stores each batch."""
        all_days, all_secs = self.collection_order(n)
        done = 0
        while done < n:
            size = min(BATCH, n - done)
            days, secs = all_days[done:done + size], all_secs[done:done + size]
            plats = self.np.choice(4, size=size, p=PLATFORM_SHARE)
            who = self.np.choice(self.n_authors, size=size, p=self.author_p)
            noise = self.np.lognormal(0.0, 1.25, size=size)
            tail = self.np.pareto(1.6, size=size)
            cites = self.np.random(size) < CITE_SHARE
            batch: list[PostRecord] = []
            citations: list[tuple[int, int, str, str]] = []
            for j in range(size):
                i = done + j
                day = self.start + dt.timedelta(days=int(days[j]))
                created = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=int(secs[j]))
                author_platform, author, _kind = self.authors[int(who[j])]
                platform = author_platform if self.rng.random() < 0.9 else PLATFORMS[int(plats[j])]
                art_idx = self.rng.randrange(self.n_articles) if cites[j] else None
                art = self.articles[art_idx] if art_idx is not None else None
                body, tags, sub, lang = self.text_for(day, art)
                title = _title_of(body) if platform == "reddit" else None
                links: list[str] = []
                if art is not None:
                    cite, kind = self.citation(art)
                    body = f"{body} {cite}"
                    if cite.startswith("http"):
                        links.append(cite)
                    citations.append((i, art_idx, kind, cite))
                if tags:
                    body += " " + " ".join("#" + t for t in tags)
                followers = author.followers or 0
                likes = int(noise[j] * np.exp(PLATFORM_LIKE_MU[platform]) * (1 + np.log1p(followers) / 3) * (1 + tail[j]))
                ext = f"demo-{self.seed}-{i}"
                batch.append(PostRecord(
                    platform=platform,
                    external_id=("t3_" + ext) if platform == "reddit" else ext,
                    text=body,
                    title=title,
                    created_at=created,
                    author_external_id=author.external_id if platform == author_platform else None,
                    url=f"https://example.org/{platform}/{ext}",
                    language=lang,
                    community={"reddit": "Radiology", "mastodon": "med-mastodon.example"}.get(platform),
                    like_count=likes,
                    repost_count=int(likes * (0.05 + 0.25 * self.rng.random())) if platform != "reddit" else None,
                    reply_count=int(likes * 0.1 * self.rng.random()) + (self.rng.random() < 0.3),
                    quote_count=int(likes * 0.03) if platform in ("x", "bluesky") else None,
                    score=likes if platform == "reddit" else None,
                    metrics_read_at=created + dt.timedelta(days=2),
                    has_media=self.rng.random() < 0.2,
                    links=links,
                    hashtags=tags,
                ))
                if platform == author_platform:
                    self.network.add(batch[-1])
            on_batch(batch, citations)
            done += size


class _Interactions:
    """Replies, reposts, quotes and mentions between demo accounts, so the network has hubs.

    Its own random stream: the posts' text, dates and counts are the same as without it.
    Replies, reposts and quotes go to recent earlier posts of the platform (active accounts
    get more); mentions go to accounts picked by followers (well-followed accounts get more).
    """

    RECENT = 3000

    def __init__(self, seed: int, authors: list[tuple[str, AuthorRecord, str]]) -> None:
        self.rng = random.Random(seed * 7919 + 1)
        self.recent: dict[str, list[PostRecord]] = {p: [] for p in PLATFORMS}
        self.accounts: dict[str, list[AuthorRecord]] = {p: [] for p in PLATFORMS}
        for platform, author, _ in authors:
            self.accounts[platform].append(author)
        self.weights = {p: [float(a.followers or 1) ** 0.7 for a in accs] for p, accs in self.accounts.items()}

    def _earlier(self, post: PostRecord) -> PostRecord | None:
        pool = self.recent[post.platform]
        for _ in range(3):
            if not pool:
                return None
            other = pool[self.rng.randrange(len(pool))]
            if other.created_at < post.created_at and other.author_external_id != post.author_external_id:
                return other
        return None

    @staticmethod
    def mention_of(platform: str, author: AuthorRecord) -> str:
        """How a platform's mention names an account: Bluesky by id (DID), the others by handle."""
        return author.external_id if platform == "bluesky" else (author.handle or author.external_id)

    def add(self, post: PostRecord) -> None:
        rng, platform = self.rng, post.platform
        roll = rng.random()
        if roll < 0.30:
            if (parent := self._earlier(post)) is not None:
                post.in_reply_to_id = parent.external_id
        elif roll < 0.40 and platform != "reddit":
            if (original := self._earlier(post)) is not None:
                post.reposted_id = original.external_id
        elif roll < 0.46 and platform in ("x", "bluesky"):
            if (quoted := self._earlier(post)) is not None:
                post.quoted_id = quoted.external_id
        if rng.random() < 0.25 and self.accounts[platform]:
            picks = rng.choices(self.accounts[platform], weights=self.weights[platform], k=rng.choice((1, 1, 2)))
            post.mentions = sorted({self.mention_of(platform, a) for a in picks
                                    if a.external_id != post.author_external_id})
        pool = self.recent[platform]
        if len(pool) < self.RECENT:
            pool.append(post)
        else:
            pool[rng.randrange(self.RECENT)] = post


def _title_of(body: str, limit: int = 90) -> str:
    """A Reddit-style title: the first sentence, cut at a word boundary (never inside a link)."""
    first = body.split(". ")[0].rstrip(".")
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"


def foreign_data(db: Database) -> dict[str, int]:
    """What `db` holds that the demo did not write: {what: count}, empty for a demo or new database."""
    from sqlalchemy import func

    from radpulse.db.models import Article, Author, CollectionRun, Quarantine, Subscriber

    checks = {  # what (singular) -> its count
        "collected post": select(func.count()).select_from(Post).where(Post.synthetic.is_(False)),
        "account": select(func.count()).select_from(Author).where(Author.synthetic.is_(False)),
        "article": select(func.count()).select_from(Article).where(Article.synthetic.is_(False)),
        "collection run": select(func.count()).select_from(CollectionRun),
        "quarantined item": select(func.count()).select_from(Quarantine),
        "subscriber": select(func.count()).select_from(Subscriber),
    }
    with db.engine.connect() as conn:
        found = {what: conn.execute(q).scalar_one() for what, q in checks.items()}
    return {what: n for what, n in found.items() if n}


def refuse_foreign_data(db: Database) -> None:
    """Raise InputError when `db` holds anything that is not demo data (the demo never mixes in)."""
    from radpulse.errors import InputError

    found = foreign_data(db)
    if not found:
        return
    shown = db.engine.url.render_as_string(hide_password=True)
    held = ", ".join(f"{n:,} {what}{'' if n == 1 else 's'}" for what, n in found.items())
    raise InputError(
        f"The database {shown} holds data that is not from the demo ({held}); the demo would mix "
        "synthetic posts into it, so nothing was written.",
        hint="Build the demo in its own database: unset RADPULSE_DATABASE_URL and leave out "
        "--database-url (it then uses ~/.local/share/radpulse/demo.db), or pass a new file such as "
        "--database-url sqlite:///demo.db.",
    )


def build_demo(
    db: Database,
    *,
    posts: int = 20_000,
    seed: int = 42,
    end: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Fill `db` with the synthetic demo dataset (idempotent for the same seed and end date).

    Refuses (InputError) a database that holds anything else: collected posts, accounts,
    articles, collection runs, quarantined items or subscribers.
    """
    refuse_foreign_data(db)
    end = end or dt.date.today()
    gen = _Generator(seed, posts, end)
    now = utcnow()
    with db.engine.begin() as conn:
        upsert_authors(conn, [a for _, a, _ in gen.authors], now=now, synthetic=True)
        art_ids = upsert_articles(conn, gen.articles, now=now, synthetic=True).ids
        # author types of synthetic accounts are known: store them as ground truth
        from radpulse.db.models import Author

        for kind in gen.kinds:
            ids = [a.external_id for _, a, k in gen.authors if k == kind]
            for start in range(0, len(ids), 900):
                conn.execute(Author.__table__.update()
                             .where(Author.external_id.in_(ids[start:start + 900]))
                             .values(author_type=kind, author_type_model="demo-ground-truth"))
    keys = [a.key for a in gen.articles]
    mention_total = 0

    def store(batch: list[PostRecord], citations: list[tuple[int, int, str, str]]) -> None:
        nonlocal mention_total
        with db.engine.begin() as conn:
            upsert_posts(conn, batch, now=now, synthetic=True, returning=False)
            if citations:
                ext = {i: f"demo-{seed}-{i}" for i, *_ in citations}
                wanted = [(ext[i], "t3_" + ext[i]) for i, *_ in citations]
                found = dict(conn.execute(
                    select(Post.external_id, Post.id).where(
                        Post.external_id.in_([e for pair in wanted for e in pair]), Post.synthetic.is_(True))
                ).all())
                rows = []
                for i, art_idx, kind, cite in citations:
                    pid = found.get(ext[i]) or found.get("t3_" + ext[i])
                    if pid is not None:
                        rows.append({"post_id": pid, "article_id": art_ids[keys[art_idx]], "kind": kind,
                                     "matched": cite, "created_at": now})
                if rows:
                    conn.execute(insert_for(conn, Mention.__table__).on_conflict_do_nothing(
                        index_elements=["post_id", "article_id"]), rows)
                    mention_total += len(rows)
        if progress:
            progress(len(batch))

    gen.posts(posts, store)
    _link_demo_sources(db, seed, now)
    rebuild_rollups(db)  # the dashboard's daily counts (`analyze` refreshes the days it annotates)
    with db.engine.begin() as conn:
        meta = {"seed": seed, "posts": posts, "start": gen.start.isoformat(), "end": end.isoformat(),
                "generated_at": now.isoformat(), "synthetic": True}
        conn.execute(delete(Meta).where(Meta.key == "demo"))
        conn.execute(insert(Meta).values(key="demo", value=meta))
    return DemoSummary(posts=posts, authors=gen.n_authors, articles=gen.n_articles, mentions=mention_total,
                       seed=seed, start=gen.start, end=end)


def _link_demo_sources(db: Database, seed: int, now: dt.datetime) -> None:
    """One synthetic source per platform, linked to that platform's demo posts."""
    with db.engine.begin() as conn:
        for platform in PLATFORMS:
            name = f"demo:{platform}"
            sid = conn.execute(select(Source.id).where(Source.name == name)).scalar()
            if sid is None:
                sid = conn.execute(insert(Source).values(
                    name=name, platform=platform, kind="synthetic", value=f"synthetic {platform} posts",
                    settings={"seed": seed}, enabled=False, synthetic=True, created_at=now,
                ).returning(Source.id)).scalar_one()
            conn.execute(
                insert_for(conn, PostSource.__table__)
                .from_select(["post_id", "source_id", "first_seen_at"],
                             select(Post.id, text(str(int(sid))), text(":now")).where(
                                 Post.platform == platform, Post.synthetic.is_(True)))
                .on_conflict_do_nothing(index_elements=["post_id", "source_id"]),
                {"now": now if db.dialect != "sqlite" else now.strftime("%Y-%m-%d %H:%M:%S.%f")},
            )
