"""Privacy-risk, advice-request and spam flags."""

import pytest

from radpulse.analysis.flags import FlagDetector


@pytest.fixture(scope="module")
def flags():
    return FlagDetector().fit()


@pytest.mark.parametrize(
    "text",
    [
        "72yo F from Springfield seen in our ED on 3/14 with a huge PE",
        "MRN 12345678: chest CT shows a nodule",
        "My patient, a 34 year old teacher, came in yesterday with this",
        "Mrs. Thompson's MRI from last week shows the tumour has grown",
        "Scanned on 12/03/2025, DOB 01/02/1950, look at this aneurysm",
        "45M, Riverside General, images attached: classic appendicitis",
    ],
)
def test_privacy_risk(flags, text):
    assert "privacy_risk" in flags.detect(text)


@pytest.mark.parametrize(
    "text",
    [
        "45M with headache. What is your diagnosis? #FOAMrad",
        "Great talk at RSNA in Chicago about lung screening",
        "Reimbursement cut by 3.5 percent in 2025",
        "The trial enrolled 1200000 people across 40 countries",
        "Case of the week: 30-year-old with knee pain, MRI below",
    ],
)
def test_teaching_and_news_are_not_privacy_risk(flags, text):
    assert "privacy_risk" not in flags.detect(text)


def test_case_image_with_particulars_uses_media(flags):
    text = "My patient, 80 years old, fell at home. CT below."
    assert "privacy_risk" in flags.detect(text, has_media=True)


@pytest.mark.parametrize(
    "text",
    [
        "Can someone read my MRI? The report says T2 hyperintensity",
        "My mom's CT report says indeterminate nodule. What does this mean?",
        "Is this cancer? My mammogram shows a spiculated mass, should I be worried",
    ],
)
def test_advice_request(flags, text):
    assert "medical_advice_request" in flags.detect(text)


def test_radiologist_question_is_not_advice_request(flags):
    assert flags.detect("Which protocol do you use for aortic dissection?") == []


@pytest.mark.parametrize(
    "text",
    [
        "#radiology #rad #ct #mri #xray #ai #health #doctor #medicine #follow",
        "Follow back for radiology tips! DM for promo",
        "#ct #ct #ct #ct scans cheap",
    ],
)
def test_spam(flags, text):
    assert "spam" in flags.detect(text)


def test_explain_gives_reasons(flags):
    why = flags.explain("MRN 12345678 chest CT")
    assert why["privacy_risk"] and "12345678" in why["privacy_risk"][0]


@pytest.mark.parametrize(
    "text",
    [
        "New paper https://pubmed.ncbi.nlm.nih.gov/39600055/ #RadResearch",
        "Read it: PMID 39600055, doi:10.1148/radiol.2023123456",
        "Trial NCT01234567 results are out",
    ],
)
def test_scholarly_identifiers_are_not_privacy_risk(flags, text):
    assert flags.detect(text) == []
