"""The trained models: deterministic training, guarded loading, report language and negation."""

import json
import shutil

import numpy as np
import pytest
import sklearn
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from radpulse.analysis.corpus import read_labels, read_posts
from radpulse.analysis.features import PostFeatures, as_docs, marked_tokens
from radpulse.analysis.lexicon import THEMES
from radpulse.analysis.models import (
    MANIFEST_FILE, MODEL_FILE, RADIOLOGY, DenseFeatures, ModelFileError, calibrated_svm,
    compile_classifier, compile_ovr, default_models, load_models, logistic, read_manifest,
)
from radpulse.analysis.pipeline import Annotator
from radpulse.analysis.text import normalise
from radpulse.analysis.train import labelled, train

PROBE = ["Love how PACS froze during the stroke code again 🙃", "CTPA: no evidence of PE. Discharged.",
         "Matched into IR!!! Thank you to every mentor", "We're hiring two breast radiologists #RadRes"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    return ((train(first, subset=400, do_tune=False, general_dir=None), first),
            (train(second, subset=400, do_tune=False, general_dir=None), second))


def test_training_is_deterministic(two_runs):
    (m1, d1), (m2, d2) = two_runs
    assert m1["model_hash"] == m2["model_hash"] and m1["data_hash"] == m2["data_hash"]
    a, b = load_models(d1), load_models(d2)
    pa, pb = a.predict_all(PROBE), b.predict_all(PROBE)
    for key in ("sentiment_proba", "subspecialty_proba", "themes_proba"):
        assert np.array_equal(pa[key], pb[key])
    for domain in a.domains_:
        assert np.array_equal(a.sentiment_heads_[domain].coef, b.sentiment_heads_[domain].coef)
    assert np.array_equal(a.subspecialty_head_.coef, b.subspecialty_head_.coef)
    assert np.array_equal(a.themes_head_.coef, b.themes_head_.coef)


def test_other_data_gives_another_hash(two_runs, tmp_path):
    (m1, _), _ = two_runs
    other = train(tmp_path, subset=380, do_tune=False, general_dir=None)
    assert other["model_hash"] != m1["model_hash"] and other["data_hash"] != m1["data_hash"]


def test_loading_refuses_another_sklearn_version(two_runs, tmp_path):
    (_, src), _ = two_runs
    shutil.copytree(src, tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / MANIFEST_FILE).read_text())
    manifest["sklearn_version"] = "0.1.0"
    (tmp_path / "m" / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match=r"scikit-learn 0\.1\.0 but .* installed.*retrain"):
        load_models(tmp_path / "m")


def test_loading_refuses_an_altered_or_missing_file(two_runs, tmp_path):
    (_, src), _ = two_runs
    shutil.copytree(src, tmp_path / "m")
    with open(tmp_path / "m" / MODEL_FILE, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelFileError, match="does not match its manifest"):
        load_models(tmp_path / "m")
    (tmp_path / "m" / MODEL_FILE).unlink()
    with pytest.raises(ModelFileError, match="missing"):
        load_models(tmp_path / "m")
    with pytest.raises(ModelFileError, match="python -m radpulse.analysis.train"):
        load_models(tmp_path / "nothing")


def test_the_shipped_models_match_their_manifest_and_this_sklearn():
    manifest = read_manifest()
    assert manifest["sklearn_version"] == sklearn.__version__
    models = default_models()
    assert models.model_hash == manifest["model_hash"]
    assert set(manifest["split_sha256"]) == {"train", "validation", "test"}
    # tuned on validation only, trained on train + validation, never on test
    assert manifest["trained_on"]["splits"] == ["train", "validation"]


def test_report_language_and_negation_are_marked():
    toks = marked_tokens(normalise("CTPA negative for PE, no RV strain. Not great. #ChestRad"))
    assert "rptneg" in toks and "neg_pe" in toks and "pe" not in toks
    assert "not_rv" in toks and "not_great" in toks and "#chestrad" in toks
    # negation stops at the end of the clause
    assert "not_great" not in marked_tokens(normalise("no delays. great team"))


def test_report_language_is_not_negative():
    # Known miss of models 3.0.0 (EVALUATION.md): a post made only of negated findings ("No
    # evidence of PE, no pneumothorax, no acute fracture. Unremarkable study.") comes out
    # negative, the general tweets having taught the shared weights that "no ..." is negative.
    pred = default_models().predict_all([
        "CTA negative for PE #ChestRad", "No evidence of PE. Unremarkable study.",
        "MRI brain: no acute intracranial abnormality. #NeuroRad",
    ])
    assert "negative" not in pred["sentiment"]


def test_annotator_uses_the_trained_models_and_versions_them():
    annotator = Annotator()
    manifest = read_manifest()
    assert manifest["model_hash"][:8] in annotator.version
    assert len(annotator.version) <= 50
    [rec] = annotator.annotate(["Love how PACS froze during the stroke code again 🙃"])
    pred = default_models().predict_all(["Love how PACS froze during the stroke code again 🙃"])
    assert rec.sentiment == pred["sentiment"][0] and rec.themes == pred["themes"][0]
    assert rec.subspecialty == pred["subspecialty"][0] == rec.subspecialties[0]


def test_the_compiled_heads_give_scikit_learns_probabilities():
    """Prediction uses plain weight matrices; they must say what the fitted estimators say."""
    posts = read_posts()[:300]
    gold = read_labels("gold")
    X, S, B, T = labelled(posts, gold)
    feats = PostFeatures()
    F = feats.fit_transform(as_docs(X[:220]), priority=220)
    Fv = feats.transform(as_docs(X[220:]))
    for clf in (calibrated_svm(1.0), logistic(3.0)):
        head = compile_classifier(clf.fit(F, B[:220]))
        proba = head.proba(np.asarray(Fv @ head.coef) + head.intercept)
        assert np.allclose(proba, clf.predict_proba(Fv), atol=1e-6)
        assert head.classes == tuple(clf.classes_)
    mlb = MultiLabelBinarizer(classes=list(THEMES)).fit([[]])
    ovr = OneVsRestClassifier(calibrated_svm(1.0)).fit(F, mlb.transform(T[:220]))
    head = compile_ovr(ovr, THEMES)
    assert np.allclose(head.proba(np.asarray(Fv @ head.coef) + head.intercept), ovr.predict_proba(Fv),
                       atol=1e-6)


def test_block_scores_equal_the_full_feature_matrix_product():
    """The character block is never built at prediction time: its weights are folded per token."""
    models = default_models()
    docs = as_docs(PROBE + ["zzqx frobnicated #NewTag 🙃 Coroscanner cérébral normal, soulagement !",
                            "", "Thanks CMS for the pay cut. Living the dream"])
    st = models._stack(RADIOLOGY)
    W = np.vstack([st["words"], st["chars"], st["lexicon"], st["dense"]])
    full = np.asarray(models.transform(docs) @ W) + st["b"]
    fast, _ = models.scores(docs)
    assert np.allclose(full, fast, atol=1e-4)


def test_accents_and_other_languages_reach_the_features():
    toks = marked_tokens(normalise("Coroscanner cérébral : soulagement ! #Neurorradiología"))
    assert "cerebral" in toks and "soulagement" in toks and "#neurorradiologia" in toks
    lex = default_models().features_._lexicons()
    assert lex["table"]["cerebral"] >= 0  # a translation in the topic lexicon


class Shouting:
    """A toy `DenseFeatures`: share of capital letters and of '!' (a stand-in for embeddings)."""

    name, version, dim = "shouting", "1", 2

    def transform(self, docs):
        return np.array([[sum(c.isupper() for c in d.raw) / max(1, len(d.raw)),
                          d.raw.count("!") / max(1, len(d.raw))] for d in docs], dtype=np.float32)


def test_dense_features_plug_in_and_must_be_given_back_when_loading(tmp_path):
    assert isinstance(Shouting(), DenseFeatures)
    manifest = train(tmp_path, subset=300, do_tune=False, use_general=False, dense=Shouting())
    assert manifest["dense"] == {"name": "shouting", "version": "1", "dim": 2}
    with pytest.raises(ModelFileError, match="dense features"):
        load_models(tmp_path)
    models = load_models(tmp_path, dense=Shouting())
    assert models.transform(PROBE).shape[1] == sum(models.features_.widths) + 2
    a = models.predict_all(PROBE)
    b = models.predict_all(PROBE, dense=Shouting().transform(as_docs(PROBE)) * 0 + 5.0)
    assert a["sentiment"] and not np.allclose(a["sentiment_proba"], b["sentiment_proba"])


def test_general_domains_get_their_own_sentiment_weights(two_runs):
    (_, d1), _ = two_runs
    models = load_models(d1)
    assert models.domains_[0] == RADIOLOGY and "rated" in models.domains_
    rad = models.predict_all(PROBE)["sentiment_proba"]
    rated = models.predict_all(PROBE, domain="rated")["sentiment_proba"]
    assert rad.shape == rated.shape and not np.allclose(rad, rated)
    with pytest.raises(ValueError, match="unknown domain"):
        models.predict_all(PROBE, domain="klingon")
