"""Radiology-adapted sentiment, including the traps plain VADER falls into."""

import pytest
from sklearn.base import clone

from radpulse.analysis.sentiment import PlainVader, RadiologySentiment


@pytest.fixture(scope="module")
def model():
    return RadiologySentiment().fit()


@pytest.mark.parametrize(
    "text",
    [
        "CTA negative for PE.",
        "Head CT: no acute intracranial abnormality.",
        "No evidence of fracture or dislocation.",
        "Positive for malignancy on core biopsy.",
        "Free fluid in the pelvis, no free air.",
        "Study was unremarkable, patient discharged.",
    ],
)
def test_report_language_is_neutral(model, text):
    assert model.predict([text])[0] == "neutral"


def test_plain_vader_gets_the_traps_wrong():
    vader = PlainVader().fit()
    assert vader.predict(["CTA negative for PE."])[0] == "negative"
    assert vader.predict(["Love being short staffed for the third weekend in a row"])[0] == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "Love being short staffed for the third weekend in a row",
        "Another reimbursement cut, thanks CMS",
        "Nothing like a pay cut to boost morale",
        "Burnout in radiology is getting worse every year",
        "Scanner down all day, everyone angry",
    ],
)
def test_staffing_and_pay_negativity(model, text):
    assert model.predict([text])[0] == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "So proud of our residents who matched into IR!",
        "Great teaching case from today's read-out, thanks to our fellows",
        "Scan came back clear, no cancer, so relieved and grateful",
    ],
)
def test_positive(model, text):
    assert model.predict([text])[0] == "positive"


def test_estimator_contract(model):
    assert model.fit() is model
    params = model.get_params()
    assert params["pos_threshold"] == 0.05
    fresh = clone(model)
    assert not hasattr(fresh, "general_")
    label, score = fresh.predict_one("What a great case!")
    assert label == "positive" and -1 <= score <= 1
    assert model.name and model.version


def test_scores_are_bounded(model):
    scores = model.decision_scores(["", "terrible awful horrible", "wonderful amazing", "x" * 10000])
    assert all(-1 <= s <= 1 for s in scores)
    assert scores[0] == 0.0
