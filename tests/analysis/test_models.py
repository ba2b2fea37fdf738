"""The trained models: deterministic training, guarded loading, report language and negation."""

import json
import shutil

import numpy as np
import pytest
import sklearn

from radpulse.analysis.features import marked_tokens
from radpulse.analysis.models import (
    MANIFEST_FILE, MODEL_FILE, ModelFileError, default_models, load_models, read_manifest,
)
from radpulse.analysis.pipeline import Annotator
from radpulse.analysis.text import normalise
from radpulse.analysis.train import train

PROBE = ["Love how PACS froze during the stroke code again 🙃", "CTPA: no evidence of PE. Discharged.",
         "Matched into IR!!! Thank you to every mentor", "We're hiring two breast radiologists #RadRes"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    return (train(first, subset=400, do_tune=False), first), (train(second, subset=400, do_tune=False), second)


def test_training_is_deterministic(two_runs):
    (m1, d1), (m2, d2) = two_runs
    assert m1["model_hash"] == m2["model_hash"] and m1["data_hash"] == m2["data_hash"]
    a, b = load_models(d1), load_models(d2)
    pa, pb = a.predict_all(PROBE), b.predict_all(PROBE)
    for key in ("sentiment_proba", "subspecialty_proba", "themes_proba"):
        assert np.array_equal(pa[key], pb[key])
    assert np.array_equal(a.sentiment_.calibrated_classifiers_[0].estimator.coef_,
                          b.sentiment_.calibrated_classifiers_[0].estimator.coef_)


def test_other_data_gives_another_hash(two_runs, tmp_path):
    (m1, _), _ = two_runs
    other = train(tmp_path, subset=380, do_tune=False)
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
    # (a bare "CTPA negative for PE. No acute intracranial abnormality." is a known near-miss:
    # negative 0.47 vs neutral 0.46; see EVALUATION.md)
    pred = default_models().predict_all([
        "No evidence of PE, no pneumothorax, no acute fracture. Unremarkable study.",
        "CTA negative for PE #ChestRad",
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
