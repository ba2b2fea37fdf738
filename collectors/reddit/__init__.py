"""Reddit: new submissions (and optionally comments) of tracked subreddits, via praw.

The collector lives in `collector.py` and is imported on first use (`get_collector`, or a name
looked up here), so that reading the config, the CLI and the exports never load the client
library; `source.py` declares the platform.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    collector = importlib.import_module(f"{__name__}.collector")
    try:
        return getattr(collector, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
