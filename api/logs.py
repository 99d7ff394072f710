"""Log set-up shared by every minsheng process (``serve`` and its API processes, ``worker``)."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """INFO and above to stderr, one line per record (does nothing if logging is already set up)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
