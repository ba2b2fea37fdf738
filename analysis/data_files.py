"""The packaged data files of radpulse.analysis (lexicons, rules, labelled sets)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any


def data_text(name: str) -> str:
    """The text of the packaged file `data/<name>`."""
    return resources.files("radpulse.analysis").joinpath(f"data/{name}").read_text(encoding="utf-8")


def load_toml(name: str, path: str | Path | None = None) -> dict[str, Any]:
    """The packaged TOML file `data/<name>`, or the file at `path` (a society's own copy)."""
    if path is None:
        return tomllib.loads(data_text(name))
    with open(path, "rb") as fh:
        return tomllib.load(fh)
