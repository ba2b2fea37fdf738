"""The packaged data files of radpulse.analysis (lexicons, rules, labelled sets), and the
digests that version the models built from them: a society that edits a lexicon or a training
file gets a new model version, so `radpulse analyze` annotates its posts again."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any


def data_text(name: str) -> str:
    """The text of the packaged file `data/<name>`."""
    return resources.files("radpulse.analysis").joinpath(f"data/{name}").read_text(encoding="utf-8")


def data_bytes(name: str, path: str | Path | None = None) -> bytes:
    """The bytes of the packaged file `data/<name>`, or of the file at `path`."""
    if path is None:
        return resources.files("radpulse.analysis").joinpath(f"data/{name}").read_bytes()
    return Path(path).read_bytes()


def load_toml(name: str, path: str | Path | None = None) -> dict[str, Any]:
    """The packaged TOML file `data/<name>`, or the file at `path` (a society's own copy)."""
    return tomllib.loads(data_bytes(name, path).decode("utf-8"))


def digest(parts: Iterable[bytes | str]) -> str:
    """A short content hash (8 hex digits) of `parts`, in order: the data half of a model version."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))  # length-prefixed: ("ab", "c") != ("a", "bc")
        h.update(data)
    return h.hexdigest()[:8]


def versioned(code_version: str, data_digest: str | None) -> str:
    """A model's version: its code version, plus the digest of the data it was built from."""
    return f"{code_version}.{data_digest}" if data_digest else code_version
