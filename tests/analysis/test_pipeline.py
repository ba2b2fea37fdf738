"""The annotator as a whole: fields, versions, robustness on any text."""

from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from radpulse.analysis.discovery import TopicDiscovery
from radpulse.analysis.flags import FLAGS, FlagDetector
from radpulse.analysis.lexicon import GENERAL, SUBSPECIALTIES, THEMES
from radpulse.analysis.pipeline import MAX_CHARS, Annotator, model_version, normalisation_digest
from radpulse.analysis.sentiment import RadiologySentiment

ANNOTATOR = Annotator()


def test_version_combines_the_models():
    assert ANNOTATOR.version == "+".join(
        [ANNOTATOR.trained.version_tag, model_version(ANNOTATOR.flags), normalisation_digest()])
    # the trained models carry their model hash and the digest of the lexicons they read
    assert ANNOTATOR.trained.model_hash[:8] in ANNOTATOR.trained.version_tag
    assert model_version(ANNOTATOR.flags) == ANNOTATOR.flags.version
    assert len(ANNOTATOR.version) <= 50  # Annotation.model_version is String(50)
    assert set(ANNOTATOR.models()) == {"radpulse-models", "radpulse-flags"}

    class Bumped(FlagDetector):
        version = "2.0.0"

    assert Annotator(flags=Bumped().fit()).version != ANNOTATOR.version


def test_author_types_are_cached():
    profiles = [("a", "A", "Neuroradiologist"), ("a", "A", "Neuroradiologist"), ("b", "", "")]
    assert ANNOTATOR.author_types(profiles) == ["radiologist", "radiologist", "unknown"]
    assert ANNOTATOR.author_type("a", "A", "Neuroradiologist") == "radiologist"


def test_sub_models_follow_the_estimator_contract():
    for model in (FlagDetector(), TopicDiscovery(n_topics=3), RadiologySentiment()):
        twin = clone(model)
        assert twin.get_params() == model.get_params()
        assert model.name and model.version
    assert FlagDetector().fit() is not None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=400)), min_size=1, max_size=5))
def test_any_text_gets_a_complete_annotation(texts):
    for rec in (a.to_record() for a in ANNOTATOR.annotate(texts, ids=list(range(len(texts))))):
        assert rec["sentiment"] in {"positive", "neutral", "negative"}
        assert -1 <= rec["sentiment_score"] <= 1
        assert rec["subspecialty"] in (*SUBSPECIALTIES, GENERAL)
        assert rec["subspecialty"] == rec["subspecialties"][0]
        assert set(rec["themes"]) <= set(THEMES)
        assert set(rec["flags"]) <= set(FLAGS)
        assert isinstance(rec["language"], str) and rec["language"]


def test_long_texts_are_truncated():
    [rec] = ANNOTATOR.annotate(["a " * MAX_CHARS])
    assert rec.truncated
