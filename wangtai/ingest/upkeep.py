"""Housekeeping of the data directory: leftover temporary files, permissions, and how long raw files stay.

- ``before_run`` — at the start of an ingest run, under the ingest lock: remove the hidden ``.<name>.tmp``
  files a killed run left in warehouse/, quarantine/, archive/ and state/ (only ours: hidden, ``.tmp``,
  untouched for ``STALE_TEMP_SECONDS``, so a writer that does not hold the ingest lock — the user store,
  the audit log — is never cut off mid-write), and once per process tighten the folders that hold personal
  data to 0700 and their files to 0600 (DATA_CONTRACT.md §5; new files are created so).
- ``purge`` — raw files (archive/, quarantine/: the inbox files as they arrived, refused rows as text)
  older than the retention (setting ``retention_days``, default 90) are deleted; ``wangtai purge`` runs it
  and writes an audit event. The manifest rows stay: they hold no personal data, and their
  ``archive_file`` / ``quarantine_file`` may then name a file that is gone.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from wangtai import clock, settings
from wangtai.ingest.errors import IngestError
from wangtai.paths import FEEDS, PRIVATE_DIR, PRIVATE_FILE, DataPaths

log = logging.getLogger("wangtai.ingest")

STALE_TEMP_SECONDS = 300.0  # a temporary file untouched this long belongs to a writer that died
SWEEP_EVERY = 600.0  # seconds between two sweeps for temporary files in one process
_BATCH_TIME = re.compile(r"^(\d{8}T\d{12})-")

_swept: dict[str, float] = {}
_tightened: set[str] = set()
_lock = threading.Lock()


def before_run(paths: DataPaths) -> None:
    """Called by ingest_all under the ingest lock."""
    root = str(paths.root)
    now = time.monotonic()
    with _lock:
        sweep = root not in _swept or now - _swept[root] >= SWEEP_EVERY
        if sweep:
            _swept[root] = now
        tighten_now = root not in _tightened
        _tightened.add(root)
    if sweep:
        remove_stale_temps(paths)
    if tighten_now:
        tighten(paths)


# ---- temporary files ------------------------------------------------------------------------------------


def _temp_folders(paths: DataPaths) -> list[tuple[Path, bool]]:
    """(folder, recursive): the archive's and quarantine's feed folders hold refused inbox folders, which
    are not ours to clean."""
    folders = [(paths.warehouse, True), (paths.state, True)]
    folders += [(base / feed, False) for base in (paths.archive, paths.quarantine) for feed in FEEDS]
    return folders


def remove_stale_temps(paths: DataPaths, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete hidden ``*.tmp`` files untouched for ``older_than`` seconds; returns them."""
    removed = []
    cutoff = time.time() - older_than
    for folder, recursive in _temp_folders(paths):
        for path in _files(folder, recursive):
            if not (path.name.startswith(".") and path.name.endswith(".tmp")):
                continue
            try:
                info = os.lstat(path)
                if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue
    if removed:
        log.info("removed %d leftover temporary files of interrupted runs", len(removed))
    return removed


def _files(folder: Path, recursive: bool):
    if not folder.is_dir() or folder.is_symlink():
        return
    if not recursive:
        yield from (Path(entry.path) for entry in os.scandir(folder) if entry.is_file(follow_symlinks=False))
        return
    for root, _, files in os.walk(folder):
        yield from (Path(root) / name for name in files)


# ---- permissions ----------------------------------------------------------------------------------------


def tighten(paths: DataPaths) -> int:
    """Folders holding personal data to 0700, their files to 0600 (links are left alone, never followed).
    Returns how many modes changed."""
    changed = 0
    for top in paths.private:
        if not top.is_dir():
            continue
        for root, _, files in os.walk(top):
            changed += _chmod(Path(root), PRIVATE_DIR)
            for name in files:
                changed += _chmod(Path(root) / name, PRIVATE_FILE)
    return changed


def _chmod(path: Path, mode: int) -> int:
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) == mode:
            return 0
        os.chmod(path, mode)
        return 1
    except (FileNotFoundError, PermissionError):  # gone, or not ours: the 0700 folder above guards it
        return 0


# ---- retention ------------------------------------------------------------------------------------------


def retention_days(strict: bool = True) -> int:
    """Days raw files are kept (setting ``retention_days``, at least 1). Not strict: a bad setting is
    logged and the default used (ingest must not stop for it; ``wangtai purge`` refuses it)."""
    effective = settings.lookup("retention_days")
    if effective.problem and strict:
        raise IngestError(f"保留天数设置有误：{effective.problem}")
    return effective.value


@dataclass(frozen=True)
class Purged:
    path: Path
    bytes: int
    kept_since: datetime  # when it was ingested (or last changed)


def purge(
    paths: DataPaths, days: int | None = None, dry_run: bool = False, now: datetime | None = None
) -> list[Purged]:
    """Delete raw files in archive/ and quarantine/ older than ``days`` (the retention setting); with
    ``dry_run`` only list them. Runs under the ingest lock, so no run is moving files meanwhile."""
    from wangtai.ingest.core import lock

    days = retention_days() if days is None else days
    if days < 1:
        raise IngestError("保留天数应不小于 1。")
    cutoff = (now or clock.now()) - timedelta(days=days)
    found = []
    with lock(paths):
        for base in (paths.archive, paths.quarantine):
            for feed in FEEDS:
                found += _old_entries(base / feed, cutoff)
        if not dry_run:
            for item in found:
                _remove(item.path)
    if found and not dry_run:
        log.info("purged %d raw files older than %d days", len(found), days)
    return found


def _old_entries(folder: Path, cutoff: datetime) -> list[Purged]:
    if not folder.is_dir() or folder.is_symlink():
        return []
    old = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):  # temporary files: the sweep's
            continue
        info = entry.stat(follow_symlinks=False)
        when = batch_time(entry.name) or datetime.fromtimestamp(info.st_mtime)
        if when < cutoff:
            old.append(Purged(Path(entry.path), _size(Path(entry.path), info), when))
    return old


def batch_time(name: str) -> datetime | None:
    """When the batch a stored file belongs to was ingested: its name starts with the batch id."""
    match = _BATCH_TIME.match(name)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%f")
    except ValueError:
        return None


def _size(path: Path, info: os.stat_result) -> int:
    if not stat.S_ISDIR(info.st_mode):
        return info.st_size
    return sum(os.lstat(Path(root) / name).st_size for root, _, files in os.walk(path) for name in files)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)  # does not follow links
    else:
        path.unlink(missing_ok=True)
