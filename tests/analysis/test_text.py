"""Text normalisation shared by every model."""

from hypothesis import given, settings
from hypothesis import strategies as st

from radpulse.analysis.text import normalise, segment_hashtag


def test_hashtag_segmentation():
    assert segment_hashtag("NeuroRad") == "neuro rad"
    assert segment_hashtag("neurorad") == "neuro rad"
    assert segment_hashtag("WomenInRadiology") == "women in radiology"
    assert segment_hashtag("IRad") == "interventional radiology"
    assert segment_hashtag("caseoftheweek") == "case of the week"
    assert segment_hashtag("RSNA2025") == "rsna 2025"


def test_urls_mentions_hashtags_and_emoji():
    nt = normalise("Great case @dr_lee 🧠 #NeuroRad https://t.co/abc123 see www.example.org/x")
    assert nt.urls == ["https://t.co/abc123", "www.example.org/x"]
    assert nt.mentions == ["dr_lee"]
    assert nt.hashtags == ["neurorad"]
    assert "🧠" in nt.clean
    assert "neuro rad" in nt.clean
    assert "http" not in nt.clean and "@" not in nt.clean
    assert nt.tokens[:2] == ["great", "case"]


def test_mastodon_html_is_stripped():
    html = ('<p>Nice <a href="https://med-mastodon.com/tags/irad" class="mention hashtag">#<span>IRad'
            '</span></a> case &amp; thread</p><p><span class="h-card"><a href="x">@<span>bob</span>'
            '</a></span></p>')
    nt = normalise(html)
    assert "<" not in nt.clean and "&amp;" not in nt.clean
    assert "interventional radiology" in nt.clean
    assert "&" in nt.clean


def test_language_detection_keeps_and_marks_non_english():
    assert normalise("The new paper on stroke imaging is out this week").language == "en"
    assert normalise("Hoy tenemos una sesión de radiología torácica muy interesante").language == "es"
    assert normalise("Heute Fortbildung zur Neuroradiologie, der Hörsaal war voll").language == "de"
    assert normalise("Garde de nuit : 60 scanners et un seul radiologue pour les urgences").language == "fr"
    assert normalise("Fiz em Portugal. Foi ótimo, mas volte com contatos e publicações").language == "pt"
    # technical English with few function words is still English
    assert normalise("CTPA for PE: RV/LV 1.2, septal bowing, IVC reflux. Call the PERT team").language == "en"
    assert normalise("ok").language == "und"
    assert normalise("").language == "und"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normalise_never_fails(text):
    nt = normalise(text)
    assert isinstance(nt.clean, str)
    assert all(t == t.lower() for t in nt.tokens)
