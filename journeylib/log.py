"""Logging set-up and run progress for the command line.

The package only ever logs (``logging.getLogger(__name__)``); the CLI decides how records look:

* not a terminal (CI, cron, a log file): one plain, timestamped line per record, in UTC::

      2026-01-01T10:00:00Z INFO journeylib.runner: [2/5] 10_journey_stages done in 12.3 s

* an interactive terminal: a concise progress display (``[2/5] 10_journey_stages … 12.3 s``)
  and only warnings and errors from the loggers.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Protocol, TextIO

log = logging.getLogger("journeylib.runner")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class UTCFormatter(logging.Formatter):
    """A formatter whose ``asctime`` is UTC (the ``Z`` in :data:`DATE_FORMAT` is then true)."""

    converter = time.gmtime


def configure_logging(
    *, stream: TextIO | None = None, level: int = logging.INFO, interactive: bool | None = None
) -> bool:
    """Attach one handler to the ``journeylib`` logger; return whether the stream is a terminal.

    Parameters
    ----------
    stream
        Where records go; ``sys.stderr`` by default.
    level
        Threshold for non-interactive output. On a terminal only warnings and errors are shown,
        because :class:`TerminalProgress` reports the progress itself.
    interactive
        Force terminal (``True``) or log-line (``False``) output; ``None`` asks ``isatty()``.

    Returns
    -------
    bool
        ``True`` when the stream is treated as an interactive terminal.
    """
    stream = stream if stream is not None else sys.stderr
    if interactive is None:
        interactive = bool(getattr(stream, "isatty", lambda: False)())
    logger = logging.getLogger("journeylib")
    for handler in list(logger.handlers):
        if getattr(handler, "_journeylib_cli", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler._journeylib_cli = True  # type: ignore[attr-defined]
    if interactive:
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING)
    else:
        handler.setFormatter(UTCFormatter(LOG_FORMAT, DATE_FORMAT))
        handler.setLevel(level)
    logger.addHandler(handler)
    logger.setLevel(min(level, logging.INFO))
    return interactive


def reset_logging() -> None:
    """Remove the handler :func:`configure_logging` added (the CLI calls it on exit)."""
    logger = logging.getLogger("journeylib")
    for handler in list(logger.handlers):
        if getattr(handler, "_journeylib_cli", False):
            logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


class Progress(Protocol):
    """What :func:`journeylib.runner.run` reports while it works."""

    def step(self, message: str) -> None:
        """A phase of the run started (e.g. "preparing data")."""

    def start(self, index: int, total: int, name: str) -> None:
        """Notebook ``index`` (1-based) of ``total`` started."""

    def finish(self, index: int, total: int, name: str, seconds: float, ok: bool) -> None:
        """Notebook ``index`` finished (``ok=False``: it failed)."""


class LogProgress:
    """Progress as plain log records on ``journeylib.runner`` (the non-terminal default)."""

    def step(self, message: str) -> None:
        log.info("%s", message)

    def start(self, index: int, total: int, name: str) -> None:
        log.info("[%d/%d] %s started", index, total, name)

    def finish(self, index: int, total: int, name: str, seconds: float, ok: bool) -> None:
        if ok:
            log.info("[%d/%d] %s done in %.1f s", index, total, name, seconds)
        else:
            log.error("[%d/%d] %s FAILED after %.1f s", index, total, name, seconds)


class TerminalProgress:
    """A concise progress display for an interactive terminal: ``[2/5] name … 12.3 s``."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def step(self, message: str) -> None:
        self._write(f"{message}\n")

    def start(self, index: int, total: int, name: str) -> None:
        self._write(f"[{index}/{total}] {name} … ")

    def finish(self, index: int, total: int, name: str, seconds: float, ok: bool) -> None:
        self._write(f"{seconds:.1f} s\n" if ok else f"FAILED after {seconds:.1f} s\n")
