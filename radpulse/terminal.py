"""Text for a terminal: escape and control sequences from the internet are removed, never run.

Post text and titles can carry ANSI CSI sequences (colours, cursor moves, screen clears), OSC
sequences (window titles, OSC 8 hyperlinks, clipboard writes) and other C0/C1 controls. Printed
raw, the terminal obeys them. `terminal_safe` removes whole sequences (7-bit `ESC ...` and 8-bit
C1 forms), then every remaining C0/C1 control except tab and newline, DEL, and bidi overrides.
"""

from __future__ import annotations

import re

_SEQUENCES = re.compile(
    r"""
      (?:\x1b\]|\x9d) [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?      # OSC ... BEL | ST (title, OSC 8 link)
    | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f]) [^\x1b\x9c]* (?:\x1b\\|\x9c)?  # DCS, SOS, PM, APC ... ST
    | (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?   # CSI params intermediates final
    | \x1b [\x20-\x2f]* [\x30-\x7e]?                           # other ESC sequences (nF, Fp, Fe, Fs)
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_escape_sequences(text: str) -> str:
    """`text` without whole terminal escape sequences (their payload too: an OSC title, a link)."""
    return _SEQUENCES.sub("", text)


def terminal_safe(text: str) -> str:
    """`text` without terminal escape sequences or control characters (tab and newline kept)."""
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


def escape_controls_in_json(text: str) -> str:
    """JSON text with DEL, C1 and bidi controls written as `\\uXXXX` (json.dumps leaves them raw)."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_JSON_RAW = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
