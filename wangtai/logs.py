"""One logging setup: ``<data dir>/state/logs/wangtai.log``, rotated, in the configured time zone.

Every module logs to a ``wangtai.*`` logger; ``setup(paths)`` gives the ``wangtai`` logger a rotating file
(10 MB × 5) and, for a service (``console=True``), the same lines on stderr for journald. The dashboard
server (``wangtai serve``), the ingest service (``wangtai ingest --watch``) and the operators' commands
(ingest, held, backup, restore) call it; the file is shared by all of them, so a process that finds the
file rotated by another reopens it instead of writing on into the old one.

Times are written with their offset (``2026-11-27T10:30:00.123+08:00``): Asia/Shanghai unless the
``timezone`` setting says otherwise. Log lines never carry a personal value (DATA_CONTRACT.md §5).
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from zoneinfo import ZoneInfo

from wangtai import settings
from wangtai.paths import DataPaths

LOGGER = "wangtai"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5


def log_file(paths: DataPaths) -> Path:
    return paths.state / "logs" / "wangtai.log"


class LocalTimeFormatter(logging.Formatter):
    """ISO 8601 times in the configured zone, with the offset: no doubt which clock a line was written by."""

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self.zone = ZoneInfo(settings.get("timezone"))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds")


class SharedRotatingFileHandler(RotatingFileHandler):
    """A rotating file that several processes append to: reopen when another process rotated it away."""

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is not None and self._moved():
            self.stream.close()
            self.stream = None  # the next write opens the current file
        super().emit(record)

    def _moved(self) -> bool:
        try:
            current = os.stat(self.baseFilename)
        except FileNotFoundError:
            return True
        opened = os.fstat(self.stream.fileno())
        return (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino)

    def _open(self):
        # log lines name users and files: readable by the service's user only
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(fd, "a", encoding="utf-8")


def _ours(handler: logging.Handler) -> bool:
    return getattr(handler, "_wangtai", False)


def setup(paths: DataPaths, console: bool = False) -> Path | None:
    """Send the ``wangtai`` loggers to the data directory's log file (and stderr for a service).

    Idempotent: a second call replaces the handlers of the first. Returns the file, or None when the data
    directory cannot be written (the command then still runs; its messages go to stderr)."""
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if _ours(h)]:
        logger.removeHandler(handler)
        handler.close()
    formatter = LocalTimeFormatter()
    file = log_file(paths)
    handlers: list[logging.Handler] = []
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(file.parent, 0o700)
        handlers.append(SharedRotatingFileHandler(file, maxBytes=MAX_BYTES, backupCount=BACKUPS, delay=True))
    except OSError as error:
        print(f"警告：无法写日志文件 {file}（{error.strerror}），日志只输出到屏幕。", file=sys.stderr)
        file = None
        console = True
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._wangtai = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    level = settings.get("log_level")
    logger.setLevel(level if level in settings.BY_KEY["log_level"].choices else logging.INFO)
    return file
