"""Flags that keep a post out of digests and public lists until a person has reviewed it.

- ``privacy_risk``: text that suggests identifiable patient information (record-number-like
  strings, dates of birth, named patients, ages together with dates or places, exam dates,
  "my patient" with specific details, shared case images with clinical particulars);
- ``medical_advice_request``: someone asking for a reading of their own (or a relative's) scan;
- ``spam``: hashtag stuffing, follow-back and promotion patterns, link farms.

Rules only, so every flag comes with the signals that raised it (`FlagDetector.explain`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sklearn.base import BaseEstimator

from radpulse.analysis.text import NormalisedText, normalise

PRIVACY_RISK = "privacy_risk"
ADVICE_REQUEST = "medical_advice_request"
SPAM = "spam"
FLAGS = (PRIVACY_RISK, ADVICE_REQUEST, SPAM)

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_AGE = re.compile(
    r"\b\d{1,3}\s?(?:-\s?)?(?:y/?o\b|yo\b|yrs?\b(?: old)?|years?[- ]old\b|-year-old\b)"
    r"|\b\d{1,3}\s?(?:m|f|male|female|man|woman|boy|girl)\b(?![\w/])"
    r"|\b(?:aged?|age of) \d{1,3}\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    rf"\b\d{{1,2}}[/.\-]\d{{1,2}}[/.\-]\d{{2,4}}\b|\b\d{{1,2}}/\d{{1,2}}\b|\b(?:19|20)\d\d-\d\d-\d\d\b"
    rf"|\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}"
    rf"|\b(?:yesterday|last night|this morning|on {_WEEKDAY}|last {_WEEKDAY})\b",
    re.IGNORECASE,
)
_EXAM_DATE = re.compile(
    rf"\b(?:scanned|imaged|seen|admitted|presented|came in|exam(?:ined)?|study|dos|date of "
    rf"(?:service|exam|scan|admission))\b[^.!?]{{0,25}}\b(?:\d{{1,2}}[/.\-]\d{{1,2}}|"
    rf"(?:19|20)\d\d-\d\d-\d\d|{_MONTH} \d)",
    re.IGNORECASE,
)
_RECORD = re.compile(
    r"\b(?:mrn|medical record|record (?:no|number|#)|nhs (?:no|number)|patient id|hospital "
    r"(?:no|number)|accession(?: no| number| #)?|acc ?#|case id)\b\s*[:#.]?\s*[a-z]{0,3}\d{3,}"
    r"|\b(?:dob|d\.o\.b\.?|date of birth|born on)\b"
    r"|(?<![\d.,$£€])\b\d{7,10}\b(?![.,]\d)(?!\s+(?:people|patients|participants|subjects|"
    r"scans|studies|exams|images|cases|views|users|dollars|euros|pounds|women|men|children|"
    r"adults|deaths|visits|procedures|reports|americans|residents|posts))",
    re.IGNORECASE,
)
_NAMED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.? [A-Z][a-z]+|\bpatient (?:named|called) [A-Z]")
_PLACE = re.compile(
    r"\b(?:from|in|at|near|lives in|living in) (?:St\.? |Saint )?[A-Z][a-z]+(?: [A-Z][a-z]+)?"
    r"(?: (?:Hospital|General|Memorial|Infirmary|Clinic|Medical Center|County|Street|Road))?\b"
)
_HOSPITAL = re.compile(
    r"\b(?:St\.? |Saint )?[A-Z][a-z]+(?:'s)? (?:General|Memorial|Hospital|Infirmary|Medical Center|"
    r"Medical Centre|Clinic|Children's)\b"
)
_PLACE_STOP = re.compile(
    r"\b(?:in|at|from|near) (?:The|This|That|My|Our|Your|CT|MRI|MR|PET|US|ED|ER|IR|ICU|AI|X|"
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|RSNA|ECR|ARRS|Radiology|"
    r"Twitter|Reddit|Mastodon|Bluesky|Chicago|Vienna)\b"
)
_MY_PATIENT = re.compile(r"\b(?:my|our|this|a) (?:patient|pt)\b|\bpatient of mine\b", re.IGNORECASE)
_CASE_IMAGE = re.compile(r"\b(?:see (?:image|images|pic)|images? (?:attached|below)|case image|pics?)\b|📷|🖼", re.IGNORECASE)

_ADVICE = re.compile(
    r"\b(?:can|could|would|will) (?:someone|anyone|somebody|any radiologists?|a radiologist|you)"
    r"(?: please| pls)? (?:read|look at|check|interpret|explain|help (?:me )?(?:read|understand|"
    r"interpret))\b"
    r"|\bshould i (?:be (?:worried|concerned|scared)|worry|get a second opinion)\b"
    r"|\bis (?:this|it|that) (?:cancer|normal|serious|bad|a tumou?r|malignant|something to worry)"
    r"|\bwhat does (?:this|my|it|that) (?:mean|report mean|finding mean)"
    r"|\bwhat do (?:these|my) (?:results|findings) mean\b"
    r"|\b(?:my )?doctor (?:hasn'?t|has not|didn'?t|did not|won'?t) (?:called|call|told|explained)",
    re.IGNORECASE,
)
_OWN_SCAN = re.compile(
    r"\b(?:my|mom'?s|mum'?s|dad'?s|wife'?s|husband'?s|son'?s|daughter'?s|baby'?s|child'?s|"
    r"(?:my )?(?:mom|mum|dad|wife|husband|son|daughter|baby|child|partner)'s) "
    r"(?:brain |chest |knee |breast |head |neck |back |spine |lung |liver |abdominal )?"
    r"(?:mri|ct|cat scan|scan|x-?rays?|ultrasound|mammogram|report|results?|biopsy|pet(?: scan)?|"
    r"imaging|radiology report|films?)\b",
    re.IGNORECASE,
)
_HELP = re.compile(r"\?|\bplease help\b|\bworried\b|\bscared\b|\banyone know\b|\bhelp me\b", re.IGNORECASE)

_PROMO = re.compile(
    r"\b(?:follow ?back|f4f|follow for follow|dm (?:me )?for|promo code|discount code|buy now|"
    r"crypto|bitcoin|nft|giveaway|click (?:the )?link|link in bio|earn \$?\d+|make money|whatsapp|"
    r"telegram|onlyfans|free followers|cheap|casino|betting)\b",
    re.IGNORECASE,
)

#: scholarly identifiers (PMID 39600055, doi:10..., NCT01234567) are not patient identifiers
_SCHOLARLY_ID = re.compile(
    r"\b(?:pmid|pmcid|pmc|doi|nct|isbn|issn|arxiv|accession of gse)\s*[:#]?\s*\S+|\bNCT\d{8}\b", re.IGNORECASE
)

# gates: a regex is only tried when the post contains one of these words (speed)
_DIGIT = re.compile(r"\d")
# substrings (of the lower-case text) without one of which a regex cannot match: exact gates
_SCHOLARLY_KEYS = re.compile(r"pmid|pmc|doi|nct|isbn|issn|arxiv|accession of gse")
_RECORD_KEYS = re.compile(r"mrn|medical record|record |nhs |patient id|hospital |acc|case id")
_DOB_KEYS = re.compile(r"dob|d\.o\.b|date of birth|born on")
_SEVEN_DIGITS = re.compile(r"\d{7}")
_EXAM_KEYS = re.compile(r"scanned|imaged|seen|admitted|presented|came in|exam|study|dos|date of")
_NAMED_KEYS = re.compile(r"M[rsx]|Miss|patient named|patient called")
_AGE_GATE = frozenset(["age", "aged"])
_PATIENT_GATE = frozenset(["patient", "pt"])
_ADVICE_GATE = frozenset(["can", "could", "would", "will", "should", "is", "what", "doctor"])
_OWN_GATE = frozenset(["my"])
_PROMO_GATE = frozenset(
    ["follow", "followback", "f4f", "dm", "promo", "discount", "buy", "crypto", "bitcoin", "nft", "giveaway", "click", "link", "earn", "make", "whatsapp", "telegram", "onlyfans", "free", "cheap", "casino", "betting"]
)


class FlagDetector(BaseEstimator):
    """Rule-based privacy-risk, advice-request and spam flags (see the module docstring)."""

    name = "radpulse-flags"
    version = "1.0.0"

    def __init__(self, max_hashtags: int = 8, max_hashtag_ratio: float = 0.5, max_links: int = 3):
        self.max_hashtags = max_hashtags
        self.max_hashtag_ratio = max_hashtag_ratio
        self.max_links = max_links

    def fit(self, X: Iterable | None = None, y: Iterable | None = None) -> FlagDetector:
        """Nothing to learn; returns self."""
        self.flags_ = FLAGS
        return self

    def explain(self, doc: str | NormalisedText, has_media: bool = False) -> dict[str, list[str]]:
        """The flags raised on one post, each with the signals that raised it."""
        nt = doc if isinstance(doc, NormalisedText) else normalise(doc, detect=False)
        text = nt.clean
        vocab = nt.vocab or frozenset(nt.tokens)
        out: dict[str, list[str]] = {}
        low = text.lower()
        if _SCHOLARLY_KEYS.search(low):
            text_ids = _SCHOLARLY_ID.sub(" ", text)
            low_ids = text_ids.lower()
        else:
            text_ids, low_ids = text, low
        privacy = self._privacy(text_ids, low_ids, vocab, has_media)
        if privacy:
            out[PRIVACY_RISK] = privacy
        advice = []
        if not _ADVICE_GATE.isdisjoint(vocab) and _ADVICE.search(text):
            advice.append("asks for a reading")
        if (
            not _OWN_GATE.isdisjoint(vocab) or "'s" in text or "’s" in text
        ) and _HELP.search(text) and _OWN_SCAN.search(text):
            advice.append("own or relative's imaging with a question")
        if advice:
            out[ADVICE_REQUEST] = advice
        spam = self._spam(nt, vocab)
        if spam:
            out[SPAM] = spam
        return out

    def _privacy(self, text: str, low: str, vocab: frozenset[str], has_media: bool) -> list[str]:
        signals = []
        digits = _DIGIT.search(text) is not None
        record = (_DOB_KEYS.search(low)
                  or digits and (_RECORD_KEYS.search(low) or _SEVEN_DIGITS.search(text)))
        strong = (
            (_RECORD.search(text) if record else None)
            or (_NAMED.search(text) if _NAMED_KEYS.search(text) else None)
        )
        if strong:
            signals.append(f"identifier: {strong.group(0)!r}")
        age = _AGE.search(text) if digits or not _AGE_GATE.isdisjoint(vocab) else None
        my_patient = _MY_PATIENT.search(text) if not _PATIENT_GATE.isdisjoint(vocab) else None
        if digits and _EXAM_KEYS.search(low) and _EXAM_DATE.search(text):
            signals.append("exam date")
        if not (age or my_patient):
            return signals
        date = _DATE.search(text)
        place = None
        for m in _PLACE.finditer(text):
            if not _PLACE_STOP.match(m.group(0)):
                place = m
                break
        place = place or _HOSPITAL.search(text)
        image = has_media or _CASE_IMAGE.search(text)
        if age and (date or place):
            signals.insert(0, "age with a " + ("date" if date else "place"))
        if my_patient and (age or date or place) and not signals:
            signals.append("'my patient' with specific details")
        if image and age and (date or place or my_patient) and not signals:
            signals.append("case image with clinical particulars")
        return signals

    def _spam(self, nt: NormalisedText, vocab: frozenset[str]) -> list[str]:
        signals = []
        n_tags = len(nt.hashtags)
        if n_tags >= self.max_hashtags:
            signals.append(f"{n_tags} hashtags")
        elif n_tags >= 5 and n_tags >= self.max_hashtag_ratio * max(1, len(nt.tokens)):
            signals.append("mostly hashtags")
        if n_tags >= 3 and len(set(nt.hashtags)) <= n_tags / 2:
            signals.append("repeated hashtags")
        if len(nt.urls) >= self.max_links:
            signals.append(f"{len(nt.urls)} links")
        promo = _PROMO.search(nt.clean) if not _PROMO_GATE.isdisjoint(vocab) else None
        if promo:
            signals.append(f"promotion: {promo.group(0)!r}")
        return signals

    def detect(self, doc: str | NormalisedText, has_media: bool = False) -> list[str]:
        """Names of the flags raised on one post."""
        return list(self.explain(doc, has_media))

    def predict(self, X: Iterable[str | NormalisedText]) -> list[list[str]]:
        """Flags of each post."""
        return [self.detect(d) for d in X]
