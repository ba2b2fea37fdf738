"""Subscriber addresses: parsed by email-validator, normalised, and refused when deceptive.

email-validator (RFC 5321/5322 syntax, IDNA 2008 with UTS 46 for the domain) refuses quoted
local parts such as `"a@b.co>\\nBcc: x@y.z"@evil.org`, line breaks, spaces, zero-width and bidi
control characters. On top of it each label of the domain, and the local part, must be written
in one script (UTS 39 "highly restrictive": Latin may go with Han + Hiragana/Katakana,
Bopomofo or Hangul, and nothing else mixes), and a non-ASCII label whose every letter has an
ASCII look-alike (Cyrillic `аррӏе`) is refused as a spoof of a Latin name. What is stored is
the normalised form: the domain lower-cased and in Unicode, the local part as written (NFC).
"""

from __future__ import annotations

from confusable_homoglyphs import categories, confusables
from email_validator import EmailNotValidError, validate_email

from radpulse.errors import InputError

HINT = "Give one plain address like name@example.org."
_IGNORED = {"COMMON", "INHERITED"}
_ALLOWED_MIXES = ({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}, {"LATIN", "HAN", "BOPOMOFO"}, {"LATIN", "HAN", "HANGUL"})


class AddressError(InputError):
    """A subscriber address that cannot be used (exit code 2)."""


def normalise_email(value: str) -> str:
    """The address as stored; AddressError naming the problem when it is not one safe address."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        parsed = validate_email(text, check_deliverability=False, allow_quoted_local=False,
                                allow_domain_literal=False, allow_display_name=False)
    except EmailNotValidError as exc:
        raise AddressError(f"{_shown(value)} is not an email address radpulse can use: {exc}", hint=HINT) from None
    for part, where in [(parsed.local_part, "before the @"), *[(label, "in the domain") for label in parsed.domain.split(".")]]:
        problem = script_problem(part)
        if problem:
            raise AddressError(f"{_shown(value)} is refused: {where}, {part!r} {problem}.",
                               hint=HINT + " Look-alike letters from other alphabets are not accepted.")
    return parsed.normalized


def envelope_address(stored: str) -> str:
    """The address to put in headers and the SMTP envelope: re-validated, ASCII domain when possible."""
    normal = normalise_email(stored)
    parsed = validate_email(normal, check_deliverability=False)
    return parsed.ascii_email or parsed.normalized


def script_problem(text: str) -> str | None:
    """Why `text` (a domain label or local part) looks deceptive, or None when it is fine."""
    if text.isascii():
        return None
    scripts = categories.unique_aliases(text) - _IGNORED
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _ALLOWED_MIXES):
        return f"mixes the scripts {', '.join(sorted(s.title() for s in scripts))}"
    letters = [ch for ch in text if ch.isalpha()]
    if letters and all(not ch.isascii() and _ascii_lookalike(ch) for ch in letters):
        return "is written entirely in letters that look like ASCII letters"
    return None


def _ascii_lookalike(ch: str) -> bool:
    found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True) or []
    return any(g["c"].isascii() and g["c"].isalpha() for item in found for g in item["homoglyphs"])


def _shown(value: object) -> str:
    """The refused input, printable on one line (escapes for control and invisible characters)."""
    return ascii(value) if isinstance(value, str) else repr(value)
