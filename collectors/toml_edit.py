"""Small edits of the TOML config document (tomlkit keeps the user's comments and layout)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tomlkit


def table(doc: Any, name: str) -> Any:
    """The table `name` of `doc`, created when missing."""
    if name not in doc:
        doc[name] = tomlkit.table()
    return doc[name]


def array_of_tables(container: Any, name: str) -> Any:
    """The array of tables `name` in `container`, created when missing."""
    if name not in container:
        container[name] = tomlkit.aot()
    return container[name]


def append_unique(container: Any, key: str, value: Any) -> bool:
    """Append `value` to the array `key` unless it is there; False when it was."""
    if key not in container:
        container[key] = tomlkit.array()
    arr = container[key]
    if value in list(arr):
        return False
    arr.append(value)
    return True


def drop_first(container: Any, key: str, match: Callable[[Any], bool]) -> bool:
    """Delete the first item of array `key` that matches; False when none does."""
    if container is None or key not in container:
        return False
    items = container[key]
    for i, item in enumerate(list(items)):
        if match(item):
            del items[i]
            return True
    return False


def new_table(**values: Any) -> Any:
    """A table with `values` (None values left out)."""
    t = tomlkit.table()
    for k, v in values.items():
        if v is not None:
            t[k] = v
    return t
