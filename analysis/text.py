"""Text normalisation shared by every radpulse model: cheap, run once per post.

`normalise(text)` returns a `NormalisedText` with
- ``clean``: readable text for sentiment (HTML stripped, URLs dropped, @mentions dropped,
  hashtags segmented into words, emoji kept);
- ``tokens``: lower-case word tokens of ``clean`` (what the topic and author models read);
- ``hashtags`` (lower-case, without '#'), ``mentions``, ``urls``;
- ``language``: ISO 639-1 code from py3langid, with a fast path for plain English text.

Everything here is regular expressions and dictionary look-ups: nltk's TweetTokenizer alone
costs about 150 µs a post, more than the whole budget of the annotation pipeline.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

#: block-level tags become a space; inline ones (Mastodon wraps "#<span>IRad</span>") vanish
_TAG_RE = re.compile(r"<(/?(?:br|p|div|li|ul|ol|h\d|blockquote|tr|td)\b)?[^>]*>", re.IGNORECASE)
_URL_RE = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.\-]*(?:@[A-Za-z0-9.\-]+)?)")
_HASHTAG_RE = re.compile(r"(?<![\w&])#(\w+)")
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")

#: frequent English function words: a post made mostly of these is English without asking langid
_EN_STOPWORDS = frozenset(
    ["the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "for", "with", "at", "by", "from", "is", "are", "was", "were", "be", "been", "it", "this", "that", "i", "you", "he", "she", "we", "they", "my", "our", "your", "his", "her", "their", "me", "us", "them", "not", "no", "so", "if", "as", "just", "all", "any", "what", "when", "how", "why", "who", "which", "do", "does", "did", "have", "has", "had", "will", "would", "can", "could", "should", "there", "here", "about", "into", "out", "up", "than", "then", "too", "very", "more", "most", "some", "new", "one", "our", "its"]
)


#: function words of other languages that are not English words: a post with one is not
#: declared English without asking langid
_OTHER_STOPWORDS = frozenset(
    ["der", "und", "ist", "nicht", "mit", "für", "ein", "eine", "das", "auf", "zu", "bei", "wir", "sich", "auch", "von", "dem", "den", "noch", "nur", "wird", "sind", "les", "des", "est", "une", "pour", "pas", "avec", "dans", "sur", "qui", "du", "au", "nous", "mais", "cette", "el", "los", "las", "del", "por", "una", "para", "muy", "pero", "hay", "como", "más", "os", "das", "dos", "em", "não", "uma", "com", "mais", "della", "che", "sono", "nel", "non", "le", "la", "de", "que", "et", "il", "di", "da", "el", "je", "ich", "es", "y"]
)
#: frequent function words of the other languages radiology posts come in
_FUNCTION_WORDS = {
    "fr": frozenset(["le", "la", "les", "des", "du", "un", "une", "et", "est", "pour", "pas", "avec", "dans", "sur", "qui", "que", "nous", "mais", "ce", "cette", "au", "aux", "je", "il", "elle", "on", "en", "sont", "très", "plus", "ne", "se", "ou", "mon", "ma", "mes", "leur", "tout"]),
    "es": frozenset(["el", "la", "los", "las", "del", "un", "una", "y", "es", "por", "para", "con", "que", "en", "no", "muy", "pero", "hay", "como", "se", "lo", "su", "sus", "más", "al", "mi", "yo", "este", "esta", "son", "está", "también", "todo"]),
    "pt": frozenset(["o", "os", "a", "as", "do", "da", "dos", "das", "um", "uma", "e", "é", "em", "no", "na", "nos", "para", "com", "que", "não", "mais", "muito", "mas", "se", "por", "ao", "meu", "minha", "está", "são", "também", "isso"]),
    "de": frozenset(["der", "die", "das", "den", "dem", "des", "ein", "eine", "und", "ist", "nicht", "mit", "für", "auf", "zu", "bei", "wir", "ich", "sich", "auch", "von", "noch", "nur", "wird", "sind", "im", "es", "aber", "wie", "oder", "sehr", "kein", "keine"]),
    "it": frozenset(["il", "lo", "la", "i", "gli", "le", "un", "una", "e", "è", "di", "del", "della", "che", "per", "con", "non", "nel", "nella", "sono", "ma", "più", "anche", "come", "questo", "questa", "mi", "si", "al", "alla"]),
}
#: characters given to langid: enough to tell languages apart, and its cost grows with length
LANGID_CHARS = 200


@dataclass(slots=True)
class NormalisedText:
    """One post after normalisation; every model reads this instead of the raw text."""

    raw: str
    clean: str
    tokens: list[str]
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    language: str = "und"
    #: the distinct tokens, for cheap "does the post mention any of ..." gates
    vocab: frozenset[str] = frozenset()


@lru_cache(maxsize=1)
def _segment_vocabulary() -> tuple[frozenset[str], dict[str, str]]:
    """Words used to split lower-case hashtags, and whole-hashtag expansions (#irad → ...)."""
    words: set[str] = set()
    aliases: dict[str, str] = {}
    text = resources.files("radpulse.analysis").joinpath("data/hashtag_words.txt").read_text(
        encoding="utf-8"
    )
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if not line.startswith("#") else ""
        if not line:
            continue
        if "=" in line:
            tag, expansion = (part.strip().lower() for part in line.split("=", 1))
            aliases[tag] = expansion
        else:
            words.update(w.lower() for w in line.split())
    return frozenset(words), aliases


@lru_cache(maxsize=65536)
def segment_hashtag(tag: str) -> str:
    """Split a hashtag body into words: 'NeuroRad' → 'neuro rad', 'radres' → 'rad res'."""
    words, aliases = _segment_vocabulary()
    low = tag.lower()
    if low in aliases:
        return aliases[low]
    parts = [p.lower() for p in _CAMEL_RE.findall(tag)]
    if len(parts) > 1 and all(p in words or p in aliases or p.isdigit() for p in parts):
        return " ".join(aliases.get(p, p) for p in parts)
    split = _split_lower(low, words)
    if split != low or len(parts) <= 1:
        return split
    return " ".join(aliases.get(p, p) for p in parts)


def _split_lower(s: str, words: frozenset[str]) -> str:
    """Fewest-pieces split of a lower-case string into known words (dynamic programming)."""
    n = len(s)
    if n > 40 or s in words:
        return s
    best: list[tuple[int, int] | None] = [None] * (n + 1)  # (pieces, start of last piece)
    best[0] = (0, 0)
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            prev = best[start]
            if prev is None:
                continue
            piece = s[start:end]
            if piece in words or (piece.isdigit()):
                cand = (prev[0] + 1, start)
                if best[end] is None or cand[0] < best[end][0]:
                    best[end] = cand
    if best[n] is None:
        return s
    pieces = []
    end = n
    while end > 0:
        start = best[end][1]
        pieces.append(s[start:end])
        end = start
    return " ".join(reversed(pieces))


def strip_html(text: str) -> str:
    """Mastodon and feed HTML to plain text: tags removed, entities decoded."""
    if "<" in text and ">" in text:
        text = _TAG_RE.sub(lambda m: " " if m.group(1) else "", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (letters/digits, keeping inner apostrophes)."""
    return _TOKEN_RE.findall(text.lower())


def detect_language(text: str, tokens: list[str] | None = None,
                    vocab: frozenset[str] | None = None) -> str:
    """ISO 639-1 language code; English posts are recognised without calling the model."""
    if tokens is None:
        tokens = tokenize(text)
    if len(tokens) < 3:
        return "und"  # too short for any detector to be right
    if vocab is None:
        vocab = frozenset(tokens)
    if text.isascii() or "".join(vocab).isascii():  # emoji and punctuation do not count
        hits = len(vocab & _EN_STOPWORDS)
        if hits >= 2 and hits * 6 >= len(vocab):
            return "en"
        if hits >= 1:
            words = {t for t in vocab if not t.isdigit()}
            known = len(words & _english_words())
            if known * 3 >= len(words) * 2:
                return "en"
            # technical English (many words no list has) with no function word of the
            # other languages radiology posts come in
            if hits >= 2 and known * 2 >= len(words) and vocab.isdisjoint(_OTHER_STOPWORDS):
                return "en"
    # the other common languages by their function words, when one clearly leads
    counts = sorted(((len(vocab & words), lang) for lang, words in _FUNCTION_WORDS.items()), reverse=True)
    (best, lang), (second, _) = counts[0], counts[1]
    if best >= 3 and best >= 2 * max(second, len(vocab & _EN_STOPWORDS)):
        return lang
    return _langid(text[:LANGID_CHARS])


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """English words radpulse already ships: VADER's lexicon, the hashtag vocabulary, the topic
    lexicon. A post made mostly of these (and some stopwords) is English."""
    words = set(_EN_STOPWORDS) | set(_segment_vocabulary()[0])
    try:
        import vaderSentiment

        lex = resources.files(vaderSentiment).joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
        words.update(line.split("\t", 1)[0] for line in lex.splitlines() if line.isascii())
    except (ImportError, OSError):
        pass
    lexicon = resources.files("radpulse.analysis").joinpath("data/topic_lexicon.toml")
    words.update(_TOKEN_RE.findall(lexicon.read_text(encoding="utf-8").lower()))
    return frozenset(words)


def _langid(text: str) -> str:
    import py3langid

    return py3langid.classify(text)[0]


def _hashtag_sub(match: re.Match) -> str:
    return " " + segment_hashtag(match.group(1)) + " "


def normalise(text: str | None, *, detect: bool = True) -> NormalisedText:
    """Normalise one post (see the module docstring); `detect=False` skips language detection."""
    raw = text or ""
    body = strip_html(raw)
    urls = _URL_RE.findall(body) if ("http" in body or "www." in body) else []
    if urls:
        body = _URL_RE.sub(" ", body)
    mentions: list[str] = []
    if "@" in body:
        mentions = [m.lower() for m in _MENTION_RE.findall(body)]
        body = _MENTION_RE.sub(" ", body)
    hashtags: list[str] = []
    if "#" in body:

        def segmented(match: re.Match) -> str:  # one pass: collect and segment
            hashtags.append(match.group(1).lower())
            return _hashtag_sub(match)

        body = _HASHTAG_RE.sub(segmented, body)
    clean = " ".join(body.split())  # = _SPACE_RE.sub(" ", body).strip(), faster
    tokens = tokenize(clean)
    vocab = frozenset(tokens)
    language = detect_language(clean, tokens, vocab) if detect else "und"
    return NormalisedText(raw, clean, tokens, hashtags, mentions, urls, language, vocab)
