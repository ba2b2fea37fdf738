"""Multi-label topics: lexicon + scikit-learn model."""

import pytest
from sklearn.base import clone

from radpulse.analysis.lexicon import Lexicon
from radpulse.analysis.text import normalise
from radpulse.analysis.topics import TopicClassifier, default_topic_classifier, read_labelled


@pytest.fixture(scope="module")
def model():
    return default_topic_classifier()


@pytest.mark.parametrize(
    "text, sub",
    [
        ("Embolized a bleeding splenic artery today #IRad", "ir"),
        ("#NeuroRad case: ring-enhancing lesion on brain MRI", "neuro"),
        ("Screening mammography recall rates are up this year", "breast"),
        ("Meniscal tear on knee MRI, classic double PCL sign", "msk"),
        ("PSMA PET-CT shows avid nodes", "nuclear"),
        ("Just submitted my first manuscript, wish me luck", "general"),
    ],
)
def test_subspecialty(model, text, sub):
    assert model.predict_topics([text])[0].subspecialty == sub


def test_themes(model):
    pred = model.predict_topics(["FDA cleared another deep learning algorithm for chest x-ray triage"])[0]
    assert "ai" in pred.themes and "chest" in pred.subspecialties
    pred = model.predict_topics(["See you in Chicago for #RSNA2025! Our poster is in the exhibit hall"])[0]
    assert "conferences_events" in pred.themes


def test_general_when_no_subspecialty(model):
    pred = model.predict_topics(["Happy Friday everyone"])[0]
    assert pred.subspecialty == "general" and pred.subspecialties == ["general"]


def test_lexicon_match_explains(model):
    why = model.explain("Great #IRad case: TIPS creation")
    assert "#irad" in why["ir"] and "tips" in why["ir"]


def test_lexicon_is_tunable_without_code(tmp_path):
    lex = tmp_path / "lexicon.toml"
    lex.write_text('[subspecialty.nuclear]\nterms = ["zorblatt scan"]\nhashtags = ["zorb"]\n')
    lexicon = Lexicon.load(lex)
    assert lexicon.counts(normalise("a zorblatt scan today #zorb"))[lexicon.labels.index("nuclear")] == 2
    X, Y = read_labelled("topics_train.tsv")
    tuned = TopicClassifier(lexicon_path=str(lex)).fit(X, Y)
    base = clone(tuned).set_params(lexicon_path=None).fit(X, Y)
    text = ["zorblatt scan zorblatt scan #zorb"]
    assert tuned.predict_proba(text)[0][8] > base.predict_proba(text)[0][8]


def test_unknown_lexicon_label_is_an_error(tmp_path):
    lex = tmp_path / "bad.toml"
    lex.write_text('[subspecialty.dermatology]\nterms = ["rash"]\n')
    with pytest.raises(ValueError, match="dermatology"):
        Lexicon.load(lex)


def test_estimator_contract_and_determinism():
    X, Y = read_labelled("topics_train.tsv")
    a = TopicClassifier().fit(X, Y)
    b = clone(a).fit(X, Y)
    assert a.fit(X, Y) is a
    assert list(a.classes_)[:2] == ["neuro", "msk"]
    texts = ["CT head shows acute SAH", "AI triage tool for PE"]
    assert (a.predict_proba(texts) == b.predict_proba(texts)).all()
    assert a.predict([]) == []
