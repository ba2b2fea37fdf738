"""radpulse: radiology conversation and literature watcher.

For researchers: ``radpulse.open(url_or_path)`` returns a dataset of DataFrames (`radpulse.dataset`).
"""

__version__ = "0.1.0"


def open(*args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: A001
    """A `radpulse.dataset.Dataset` for a database URL, an SQLite path or the configured database."""
    from radpulse.dataset import open as _open

    return _open(*args, **kwargs)
