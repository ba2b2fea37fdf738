"""`analyze` on the database: only what is due, versioned, idempotent; review of flags."""

from __future__ import annotations

import datetime as dt

import pytest
from analysis_helpers import TEXTS, add_posts
from sqlalchemy import select, update

from radpulse.analysis.data_files import data_bytes
from radpulse.analysis.pipeline import ANNOTATOR_NAME, Annotator, model_version
from radpulse.analysis.review import decide, flagged_posts, held_post_ids
from radpulse.analysis.flags import FlagDetector
from radpulse.analysis.models import default_models
from radpulse.analysis.store import analyze, count_due
from radpulse.analysis.topics import TopicClassifier, default_topic_classifier, read_labelled
from radpulse.db.models import Annotation, Author, Post, ReviewDecision
from radpulse.errors import InputError


def _annotations(db) -> dict[int, tuple]:
    with db.session() as s:
        rows = s.execute(select(Annotation.post_id, Annotation.model_version, Annotation.annotated_at,
                                Annotation.sentiment, Annotation.flags, Annotation.model_name)).all()
    return {r.post_id: tuple(r[1:]) for r in rows}


def test_analyze_annotates_everything_once(posts_db):
    db = posts_db
    annotator = Annotator()
    assert count_due(db, annotator) == len(TEXTS)
    result = analyze(db, annotator, batch_size=4)
    assert (result.new, result.changed, result.outdated, result.authors) == (len(TEXTS), 0, 0, 3)
    first = _annotations(db)
    assert len(first) == len(TEXTS)
    assert {v[0] for v in first.values()} == {annotator.version}
    assert {v[4] for v in first.values()} == {ANNOTATOR_NAME}
    by_text = dict(zip(TEXTS, sorted(first)))
    assert first[by_text["CTA negative for PE. #ChestRad"]][2] == "neutral"
    assert "privacy_risk" in first[by_text["MRN 12345678 chest CT shows a nodule"]][3]
    with db.session() as s:
        types = dict(s.execute(select(Author.external_id, Author.author_type)).all())
        models = set(s.execute(select(Author.author_type_model)).scalars())
    assert types == {"a0": "radiologist", "a1": "trainee", "a2": "organisation"}
    assert models == {annotator.author_model}

    # re-running touches nothing
    again = analyze(db, Annotator())
    assert again.annotated == 0 and again.authors == 0
    assert _annotations(db) == first


def test_changed_text_is_reannotated(posts_db):
    db = posts_db
    analyze(db)
    before = _annotations(db)
    changed_id = min(before)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    with db.session() as s:
        s.execute(update(Post).where(Post.id == changed_id)
                  .values(text="Thrilled to start my IR fellowship!", text_changed_at=later))
    result = analyze(db)
    assert (result.new, result.changed, result.outdated) == (0, 1, 0)
    after = _annotations(db)
    assert after[changed_id][2] == "positive"
    assert {k: v for k, v in after.items() if k != changed_id} == \
        {k: v for k, v in before.items() if k != changed_id}


def test_version_bump_reannotates_exactly_the_affected_posts(posts_db):
    db = posts_db
    analyze(db)
    # posts annotated by an older combination: only these are due
    old_ids = sorted(_annotations(db))[:2]
    with db.session() as s:
        s.execute(update(Annotation).where(Annotation.post_id.in_(old_ids))
                  .values(model_version="0.9.0+1.0.0+1.0.0"))
    before = _annotations(db)
    result = analyze(db)
    assert (result.new, result.changed, result.outdated) == (0, 0, 2)
    after = _annotations(db)
    assert {k for k in after if after[k] != before[k]} == set(old_ids)

    # bumping a model's version makes every post due, once
    class Bumped(FlagDetector):
        version = "1.1.0"

    bumped = Annotator(flags=Bumped().fit())
    assert count_due(db, bumped) == len(TEXTS)
    assert analyze(db, bumped).outdated == len(TEXTS)
    assert {v[0] for v in _annotations(db).values()} == {bumped.version}
    assert analyze(db, bumped).annotated == 0
    # new posts alone are due afterwards
    add_posts(db, ["Another #NeuroRad case"], start=100)
    assert analyze(db, bumped).new == 1


def test_an_edited_lexicon_is_a_new_model_version_and_posts_are_annotated_again(posts_db, tmp_path):
    """A society that edits a lexicon (here a copy of it) gets its posts re-annotated by `analyze`."""
    db = posts_db
    shipped = Annotator()
    analyze(db, shipped)
    copy = tmp_path / "sentiment_radiology.toml"
    copy.write_bytes(data_bytes("sentiment_radiology.toml"))
    same = Annotator(models=default_models().with_lexicons(sentiment_path=str(copy)))
    assert same.version == shipped.version  # the content is versioned, not the path
    assert count_due(db, same) == 0

    with db.session() as s:
        embolized = s.scalar(select(Post.id).where(Post.text.like("Embolized%")))
    def score() -> float:
        with db.session() as s:
            return s.scalar(select(Annotation.sentiment_score).where(Annotation.post_id == embolized))

    before = score()
    copy.write_text(copy.read_text(encoding="utf-8").replace("[lexicon]\n", "[lexicon]\nembolized = 3.0\n", 1),
                    encoding="utf-8")
    edited = Annotator(models=default_models().with_lexicons(sentiment_path=str(copy)))
    assert edited.version != shipped.version and len(edited.version) <= 50
    assert edited.models()["radpulse-models"] != shipped.models()["radpulse-models"]
    assert edited.models()["radpulse-flags"] == shipped.models()["radpulse-flags"]
    assert count_due(db, edited) == len(TEXTS)
    assert analyze(db, edited).outdated == len(TEXTS)
    after = _annotations(db)
    assert {v[0] for v in after.values()} == {edited.version}
    assert score() > before  # the edit took effect: the lexicon's valence is a model feature


def test_an_edited_topic_lexicon_or_training_set_changes_the_topic_version(tmp_path):
    texts, labels = read_labelled("topics_train.tsv")
    shipped = default_topic_classifier()
    copy = tmp_path / "topic_lexicon.toml"
    copy.write_bytes(data_bytes("topic_lexicon.toml"))
    assert model_version(TopicClassifier(lexicon_path=str(copy)).fit(texts, labels)) == model_version(shipped)
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# a society's note\n", encoding="utf-8")
    assert model_version(TopicClassifier(lexicon_path=str(copy)).fit(texts, labels)) != model_version(shipped)
    assert model_version(TopicClassifier().fit(texts[:-1], labels[:-1])) != model_version(shipped)


def test_deleted_posts_are_skipped(posts_db):
    db = posts_db
    with db.session() as s:
        s.execute(update(Post).values(is_deleted=True))
    assert analyze(db).annotated == 0


def test_review_flow(posts_db):
    db = posts_db
    analyze(db)
    items = flagged_posts(db)
    flags = {tuple(i.flags) for i in items}
    assert ("privacy_risk",) in flags and ("medical_advice_request",) in flags
    privacy = next(i for i in items if i.flags == ["privacy_risk"])
    assert privacy.reasons["privacy_risk"]
    ids = [i.post_id for i in items]
    assert held_post_ids(db, ids) == set(ids)

    decide(db, privacy.post_id, "privacy_risk", "dismissed", "synthetic record number", "rev")
    assert privacy.post_id not in held_post_ids(db, ids)
    assert privacy.post_id not in [i.post_id for i in flagged_posts(db)]
    assert privacy.post_id in [i.post_id for i in flagged_posts(db, include_decided=True)]
    decide(db, privacy.post_id, "privacy_risk", "confirmed", "on second look it is real", "rev")
    assert privacy.post_id in held_post_ids(db, ids)
    with db.session() as s:
        recorded = s.execute(select(ReviewDecision.decision, ReviewDecision.reason)
                             .where(ReviewDecision.post_id == privacy.post_id)
                             .order_by(ReviewDecision.id)).all()
    assert [tuple(r) for r in recorded] == [("dismissed", "synthetic record number"),
                                             ("confirmed", "on second look it is real")]

    with pytest.raises(InputError, match="not flagged"):
        decide(db, privacy.post_id, "spam", "dismissed", "x")
    with pytest.raises(InputError, match="reason"):
        decide(db, privacy.post_id, "privacy_risk", "dismissed", "  ")
    with pytest.raises(InputError, match="not been analysed"):
        decide(db, 999_999, "privacy_risk", "dismissed", "x")
    with pytest.raises(InputError, match="Unknown flag"):
        flagged_posts(db, flag="nope")


def test_platform_language_tag_wins(db):
    [tagged, untagged, undetermined] = add_posts(db, ["Gran caso de neurorradiología hoy",
                                                      "Great case of stroke imaging today",
                                                      "Great case of stroke imaging today"])
    with db.session() as s:
        s.execute(update(Post).where(Post.id == tagged).values(language="es"))
        s.execute(update(Post).where(Post.id == undetermined).values(language="und"))
    analyze(db)
    with db.session() as s:
        langs = dict(s.execute(select(Annotation.post_id, Annotation.language)).all())
    assert langs == {tagged: "es", untagged: "en", undetermined: "en"}


def test_text_changed_during_a_run_stays_due(posts_db, monkeypatch):
    db = posts_db
    with db.session() as s:
        target = s.execute(select(Post.id).order_by(Post.id)).scalars().first()
    real = Annotator.annotate

    def annotate_while_collector_writes(self, texts, ids=None, has_media=None):
        with db.session() as s:  # a collector edits the post after we read it
            s.execute(update(Post).where(Post.id == target).values(
                text="edited", text_changed_at=dt.datetime.now(dt.UTC)))
        return real(self, texts, ids, has_media)

    monkeypatch.setattr(Annotator, "annotate", annotate_while_collector_writes)
    analyze(db, batch_size=100)
    monkeypatch.setattr(Annotator, "annotate", real)
    assert count_due(db, Annotator()) == 1
    assert analyze(db).changed == 1


def test_post_text_does_not_repeat_the_title():
    from radpulse.analysis.store import post_text

    assert post_text("Title #a #b #c", "Title #a #b #c") == "Title #a #b #c"
    assert post_text("New in the literature: Reducing variabil", "New in the literature: Reducing "
                     "variability in scoring") == "New in the literature: Reducing variability in scoring"
    assert post_text("Question", "Body") == "Question\nBody"
    assert post_text(None, "Body") == "Body" and post_text("T", None) == "T" and post_text(None, None) == ""
