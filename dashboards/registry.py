"""Page callbacks, attached to each app that is created (not to a process-wide list).

Dash's `dash.callback` puts callbacks in one global list that the first app to serve a request
takes; radpulse creates an app per database (and tests create several), so page modules declare
their callbacks here and `create_app` attaches them to its own app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_CALLBACKS: list[tuple[tuple[Any, ...], dict[str, Any], Callable[..., Any]]] = []


def callback(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Like `dash.callback`: declare a page's callback (attached by `attach`)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _CALLBACKS.append((args, kwargs, fn))
        return fn

    return register


def attach(app: Any) -> None:
    for args, kwargs, fn in _CALLBACKS:
        app.callback(*args, **kwargs)(fn)
