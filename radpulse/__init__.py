"""radpulse: radiology conversation and literature watcher."""
__version__ = "0.1.0"
