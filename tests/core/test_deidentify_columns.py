"""De-identification over whole columns gives exactly what the per-post functions give.

`scrub_texts`, `link_lists` and `Pseudonymiser.many` are what exports and `radpulse.open()` run
on each chunk; `scrub_text`, `scrub_links` and `hmac` are the reference they are held to, on
generated texts (handles at the start and end, beside punctuation, in other cases and in the
characters `re.IGNORECASE` folds onto ASCII letters, NUL bytes and the joining separator itself),
and on posts read back from SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import string

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from radpulse.db.models import Annotation, Post
from radpulse.db.queries import PostFilters
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.db.store import upsert_authors, upsert_posts
from radpulse.exports import deidentify
from radpulse.exports.deidentify import Pseudonymiser, link_lists, scrub_links, scrub_text, scrub_texts
from radpulse.exports.posts import iter_post_frames, pseudonymiser
from radpulse.records import AuthorRecord, PostRecord
from radpulse.safeurl import safe_http_urls

T = dt.datetime(2026, 10, 5, 8, tzinfo=dt.UTC)

PIECES = [
    "jane", "Jane.Doe", "JANE", "doe", "jane_x", "ünal", "Ünal", "k", "kis", "KİS", "Kıs", "kiſ", "\u212ais",
    "RadResBob", "radreſbob", "@", "@jane", "@Jane.Doe@mastodon.social", "u/", "/u/", "U/RadResBob", "u/jane",
    ".", ",", "!", "(", ")", "-", "_", " ", "\n", "\t", "\x00", "\n\x00\n", "é", "😀", "İ", "ı", "ſ", "\u0307",
    "https://x.com/jane", "https://bsky.app/profile/jane.bsky.social", "HTTPS://X.COM/JANE/status/1",
    "https://doi.org/10.1148/radiol.1", "http://med-mastodon.com/@jane/1", "https://example.org/?u=jane",
    "rad@example.org", "janet", "the", "rad.bsky.social",
]
HANDLES = ["jane", "Jane.Doe", "@jane.doe@mastodon.social", "jane_x", "dr_ünal", "kis", "RadResBob",
           "rad.bsky.social", "k", "", "  @jane  ", "ki\u0307s"]

texts = st.one_of(st.none(), st.lists(st.sampled_from(PIECES), max_size=14).map("".join),
                  st.text(alphabet=string.ascii_letters + "@/:._ İıſ\u212a\n\x00", max_size=40))
rows = st.lists(st.tuples(texts, st.lists(st.sampled_from(HANDLES), max_size=3)), max_size=12)


@settings(max_examples=400, deadline=None)
@given(rows)
def test_scrub_texts_is_scrub_text_of_each_row(batch):
    column = [t for t, _ in batch]
    handles = [h for _, h in batch]
    assert scrub_texts(column, handles) == [scrub_text(t, h) for t, h in batch]


ASCII_NAMES = ["jane", "Jane.Doe", "a-b", "bob.", "aa", "x_y", "rad.bsky.social", "user", "ab"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from([*ASCII_NAMES, "JANE", "A-B", "@", ".", "-", "_", " ", "!", "x", "0", "\n", "@@"]),
                max_size=10).map("".join), st.sampled_from(ASCII_NAMES))
@example("@@jane jane_ _jane xjane @jane a@jane jane0 (jane) JANE.", "jane")
@example("aaa aa aa_aa @aa@aa", "aa")
def test_replacing_a_name_without_a_pattern_is_the_pattern(text, name):
    """The column path replaces ASCII handles by str.find; the per-post rule uses the regex."""
    assert deidentify._replace_name(text, name) == deidentify._handle_pattern(name).sub(deidentify.MENTION_MARK, text)


UNICODE_PIECES = [*ASCII_NAMES, "JANE", "Jäne", "é", "ü", "😀", "\u212a", "K", "ß", "Σ", "ς", "\u0307", "日本",
                  "١", "Ⅷ", " ", "@", ".", "_", "-", "\n"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(UNICODE_PIECES), max_size=10).map("".join), st.sampled_from([*ASCII_NAMES, "kis", "k_k"]))
@example("\u212aIS kis Kis\u212a", "kis")
@example("ü_jane jane١ Ⅷjane ja\u0307ne", "jane")
def test_an_ascii_name_in_an_aligned_unicode_text_is_replaced_as_the_pattern_does(text, name):
    """Non-ASCII texts take the str.find path when their lower case lines up with them (`_aligned`):
    the same occurrences (the Kelvin sign as "k", letters, digits and numerals of any script as
    word characters), the same result as the regex."""
    if deidentify._aligned(text):
        assert deidentify._replace_name(text, name) == deidentify._handle_pattern(name).sub(deidentify.MENTION_MARK, text)


def test_texts_whose_lower_case_does_not_line_up_take_the_pattern():
    assert deidentify._aligned("plain ascii") and deidentify._aligned("é ü 😀 \u212a")
    for text in ("\u0130stanbul", "k\u0131s", "ki\u017f"):  # İ lower-cases to two characters; ı and ſ stay
        assert not deidentify._aligned(text)
        assert scrub_texts([text + " kis"], [["kis"]]) == [scrub_text(text + " kis", ["kis"])]


def test_handles_anywhere_and_in_any_case_are_scrubbed_as_one_text_would_be():
    column = ["RadResBob", "radresbob: hi", "see (RadResBob).", "RADRESBOB!", "x\nRadReſBob", "İ kis KİS kıs",
              "@jane@mastodon.social,jane.", "u/RadResBob's post", "ok\n\x00\nRadResBob", "clean text", None, ""]
    handles = [["RadResBob", "kis", "@jane@mastodon.social"]] * len(column)
    out = scrub_texts(column, handles)
    assert out == [scrub_text(t, h) for t, h in zip(column, handles)]
    assert out[:5] == ["@user", "@user: hi", "see (@user).", "@user!", "x\n@user"]
    assert out[5] == "İ @user @user @user" and out[6] == "@user,@user." and out[7] == "u/user's post"
    assert out[8] == "ok\n\x00\n@user" and out[9:] == ["clean text", None, ""]
    # no İ (whose lower case is longer) in the column: long names are found for the column at once
    column = ["x\nRadReſBob", "radreſbob!", "to RadResBobby", "jane.doe and JANE", "ıt is kıs", "plain"]
    handles = [["RadResBob"], ["RadResBob"], ["RadResBob"], ["Jane.Doe", "jane"], ["kis"], ["RadResBob"]]
    out = scrub_texts(column, handles)
    assert out == [scrub_text(t, h) for t, h in zip(column, handles)]
    assert out == ["x\n@user", "@user!", "to RadResBobby", "@user and @user", "ıt is @user", "plain"]


def test_the_ascii_fold_names_every_character_ignorecase_matches_with_an_ascii_one():
    """`_may_name` skips a text when no handle's lower case is in its folded lower case: that is
    safe only if the fold covers every non-ASCII character `re.IGNORECASE` equates to ASCII."""
    ascii_class = re.compile(r"[A-Za-z0-9_.\-]", re.IGNORECASE)
    folded = {chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF and ascii_class.fullmatch(chr(c))}
    assert folded == {"\u0130", "\u0131", "\u017f", "\u212a"}
    for char in folded:
        letter = next(a for a in string.ascii_lowercase if re.fullmatch(a, char, re.IGNORECASE))
        assert char.lower().translate(deidentify._FOLD) == letter


def test_pseudonyms_are_hmac_sha256_and_many_is_each():
    for key in (b"", b"k", b"x" * 64, b"y" * 65, "clé du projet".encode(), bytes(range(256))):
        pseudo = Pseudonymiser(key)
        for ident in ("1", "did:plc:abc", "ünï", "https://m.example/@a/1"):
            expected = "p_" + hmac.new(key, f"p:x:{ident}".encode(), "sha256").hexdigest()[:16]
            assert pseudo("p", "x", ident) == expected
        platforms, ids = ["x", "x", "reddit", "x", "x"], ["1", None, "1", "", "1"]
        each = [pseudo("a", p, i) for p, i in zip(platforms, ids)]
        assert pseudo.many("a", platforms, ids) == pseudo.many("a", platforms, ids, repeated=True) == each
        assert each[1] is None and each[3] is None and each[0] == each[4] != each[2]


def test_link_lists_are_the_per_row_rules():
    lists = [["https://doi.org/10.1/x", "https://x.com/a/status/1", " https://pubs.rsna.org/a ", "javascript:alert(1)",
              "https://fosstodon.org/@a/1", 7, None], None, [], "not a list", ["https://doi.org/10.1/x"]]
    assert link_lists(lists, deidentify=True) == [scrub_links(safe_http_urls(v)) for v in lists]
    assert link_lists(lists, deidentify=False) == [safe_http_urls(v) for v in lists]
    assert link_lists(lists, deidentify=True)[0] == ["https://doi.org/10.1/x", "https://pubs.rsna.org/a"]


def test_exported_chunks_equal_the_per_post_rules_on_both_databases(db):
    authors = [AuthorRecord("x", "1001", handle="Dr_Rad_Jane"), AuthorRecord("bluesky", "did:plc:k1", handle="kis.bsky.social"),
               AuthorRecord("reddit", "t2_b", handle="RadResBob")]
    # each text names only accounts its post is by or mentions (x: Dr_Rad_Jane; bluesky: kis, and
    # mentions RadResBob and Dr_Rad_Jane; reddit: RadResBob, and mentions all three)
    texts = ["Dr_Rad_Jane: start", "end by dr_rad_jane, radresbob", "(DR_RAD_JANE), @Dr_Rad_Jane! KİS.bsky.social.",
             "radreſbob & u/RadResBob https://www.reddit.com/user/RadResBob", "KIS.BSKY.SOCIAL said",
             "plain 😀 text", None, "see https://x.com/Dr_Rad_Jane/status/9 and https://doi.org/10.1148/r.1 #ct",
             "nul\x00 RadResBob dr_rad_jane\n\x00\nkis.bsky.social"]
    posts = [PostRecord(("x", "bluesky", "reddit")[i % 3], f"e{i}", text, T + dt.timedelta(minutes=i),
                        author_external_id=("1001", "did:plc:k1", "t2_b")[i % 3], title="Q for RadResBob" if i % 3 == 2 else None,
                        mentions=["RadResBob", "Dr_Rad_Jane", "kis.bsky.social"][: 1 + i % 3], links=["https://x.com/a/status/1", "https://doi.org/10.1/x"],
                        in_reply_to_id="e0" if i else None, community="u_RadResBob" if i == 2 else None,
                        hashtags=["ct"] if i % 2 else [], like_count=i)
             for i, text in enumerate(texts)]
    with db.engine.begin() as conn:
        upsert_authors(conn, authors)
        ids = upsert_posts(conn, posts).ids
        conn.execute(insert(Annotation), [{"post_id": pid, "model_name": ANNOTATOR_NAME, "model_version": "1",
                                           "annotated_at": T, "flags": [], "subspecialties": [], "themes": ["ai"],
                                           "sentiment": "neutral"} for pid in list(ids.values())[::2]])
    frames = list(iter_post_frames(db, PostFilters(), key="key", chunksize=4))
    assert [len(f) for f in frames] == [4, 4, 1]
    got = pd.concat(frames, ignore_index=True)
    pseudo = pseudonymiser(db, "key")
    handles = {a.external_id: a.handle for a in authors}
    with db.session() as session:
        stored = session.scalars(select(Post).order_by(Post.created_at, Post.id)).all()
    assert len(stored) == len(got)
    for post, (_, out) in zip(stored, got.iterrows()):
        names = [handles[post.author_external_id], *post.mentions]
        assert out["post"] == pseudo("p", post.platform, post.external_id)
        assert out["author"] == pseudo("a", post.platform, post.author_external_id)
        assert out["in_reply_to"] == pseudo("p", post.platform, post.in_reply_to_id) or (
            post.in_reply_to_id is None and pd.isna(out["in_reply_to"]))
        for column in ("text", "title"):
            expected = scrub_text(getattr(post, column), names)
            assert (pd.isna(out[column]) and expected is None) or out[column] == expected, column
        assert list(out["links"]) == scrub_links(safe_http_urls(post.links)) == ["https://doi.org/10.1/x"]
        assert list(out["hashtags"]) == post.hashtags and out["like_count"] == post.like_count
        assert out["created_at"] == post.created_at
        assert list(out["themes"]) == (["ai"] if ids[(post.platform, post.external_id)] in list(ids.values())[::2] else [])
    assert got["community"].dropna().tolist() == ["u_user"]
    lowered = got.astype(str).to_string().lower()
    for value in ("dr_rad_jane", "radresbob", "kis.bsky", "1001", "did:plc", "t2_b", "x.com/"):
        assert value not in lowered, value
