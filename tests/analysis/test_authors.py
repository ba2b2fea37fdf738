"""Author types from handle, name and bio."""

import pytest

from radpulse.analysis.authors import AuthorTypeClassifier, Profile, default_author_classifier


@pytest.mark.parametrize(
    "profile, expected",
    [
        (("drlee", "Dr. Lee", "Neuroradiologist. Stroke imaging."), "radiologist"),
        (("radres_bo", "Bo", "PGY-3 radiology resident"), "trainee"),
        (("ct_tech", "Sam RT(R)(CT)", "CT technologist"), "radiographer"),
        (("rsna", "RSNA", "Radiological Society of North America. Official account."), "organisation"),
        (("scanco", "ScanCo Inc.", "AI for chest x-ray. Request a demo!"), "industry"),
        (("jo", "Jo", "Breast cancer survivor and patient advocate"), "patient_public"),
        (("edoc", "Ann MD", "Emergency physician, FOAMed"), "other_clinician"),
        (("user123", "user123", ""), "unknown"),
    ],
)
def test_author_types(profile, expected):
    assert default_author_classifier().predict([profile])[0] == expected


def test_model_answers_when_no_rule_matches():
    clf = default_author_classifier()
    profile = Profile("mammo_reader", "Dr. Kay", "I read mammograms all day, tomo fan")
    assert clf.rule_type(profile) is None
    assert clf.predict([profile])[0] in {"radiologist", "radiographer", "unknown"}


def test_accepts_dicts_and_contract():
    clf = AuthorTypeClassifier(use_model=False)
    assert clf.get_params()["use_model"] is False
    X = [("a", "A", "Neuroradiologist"), ("b", "B", "PGY-1 resident")]
    assert clf.fit(X, ["radiologist", "trainee"]) is clf
    assert list(clf.predict([("c", "C", "no rule here")])) == ["unknown"]
    out = default_author_classifier().predict([{"handle": "x", "display_name": "Society of Breast Imaging",
                                               "bio": "Official account of the SBI."}])
    assert out[0] == "organisation"
