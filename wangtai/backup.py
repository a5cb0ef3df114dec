"""Backup and restore of a data directory, consistent while the dashboard runs.

``backup(paths, target)`` copies ``warehouse/`` (with the manifest and the operators' decisions),
``quarantine/`` (the refused rows the 数据状态 page explains), ``reference/`` and ``state/`` (users,
sessions, the audit log and whatever else is kept there) into a new folder:

- under the ingest lock (``wangtai.ingest.core.lock``): no ingest, compaction or snapshot decision changes
  the warehouse meanwhile — a live ingest waits for the copy, and the copy waits for a running ingest;
- SQLite databases through SQLite's backup API (a transactionally consistent copy, whatever is writing);
- the audit log under the audit lock, so it ends at a whole line and its hash chain verifies;
- locks, temporary files and the log files are left out; ``inbox/`` (files not yet ingested) and
  ``archive/`` (raw files as they arrived, kept only for the retention period) too, unless asked.

The copy is written under a hidden name beside the target and renamed when complete, with ``BACKUP.json``
(what it holds) — a half backup never looks like a backup. Folders are 0700 and files 0600: it holds
personal data. The pseudonymization key is **not** in it (it lives apart from the data by design): keep a
copy of the key elsewhere, or a restored warehouse cannot be joined with what is ingested later.

``restore(source, paths)`` brings a backup back into an empty data directory (``force`` moves what is
there aside first, never deletes it) and checks the audit chain.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from wangtai import clock
from wangtai.paths import DataPaths

ANCHOR = "audit-anchor.json"  # beside the copied log: its head, signed for the copy
MANIFEST = "BACKUP.json"
FOLDERS = ("warehouse", "quarantine", "reference", "state")
OPTIONAL = ("archive", "inbox")
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
SKIP_SUFFIXES = (".lock", ".tmp", "-wal", "-shm", "-journal")
SKIP_FOLDERS = {("state", "logs")}


class BackupError(Exception):
    """A backup or restore that cannot be done (a clerk's message)."""


@dataclass
class Copied:
    files: int = 0
    bytes: int = 0
    folders: list[str] = field(default_factory=list)

    def add(self, path: Path) -> None:
        self.files += 1
        self.bytes += path.stat().st_size


# ---- backup --------------------------------------------------------------------------------------------


def backup(paths: DataPaths, target: Path, archive: bool = False, inbox: bool = False) -> Copied:
    """Copy the data directory into ``target`` (a new or empty folder); returns what was copied."""
    from wangtai.ingest.core import lock

    if not (paths.warehouse.is_dir() or paths.state.is_dir()):
        raise BackupError(f"{paths.root} 不是王台的数据目录（没有 warehouse/ 和 state/）。")
    target = target.absolute()
    if target == paths.root or paths.root in target.parents:
        raise BackupError("备份目录不能放在数据目录里面。")
    _must_be_empty(target)
    folders = [*FOLDERS, *(["archive"] if archive else []), *(["inbox"] if inbox else [])]
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    _private_dir(partial)
    copied = Copied()
    try:
        with lock(paths, timeout=600):
            for name in folders:
                if (paths.root / name).is_dir():
                    _copy_tree(paths, name, partial, copied)
                    copied.folders.append(name)
            _write_manifest(paths, partial, copied)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return copied


def _must_be_empty(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} 已存在且不是空目录：请指定一个新目录（备份从不覆盖已有文件）。")


def _private_dir(folder: Path) -> None:
    """The folder, and every folder created on the way to it, 0700 (mkdir's parents get the umask's mode)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        os.chmod(created, 0o700)
    os.chmod(missing[0] if missing else folder, 0o700)


def _skipped(relative: Path) -> bool:
    return relative.name.endswith(SKIP_SUFFIXES) or tuple(relative.parts[:2]) in SKIP_FOLDERS


def _copy_tree(paths: DataPaths, name: str, into: Path, copied: Copied) -> None:
    for source in _walk(paths.root / name):
        relative = source.relative_to(paths.root)
        if _skipped(relative):
            continue
        target = into / relative
        _private_dir(target.parent)
        if source.suffix in SQLITE_SUFFIXES:
            _copy_sqlite(source, target)
        elif relative.parts[:2] == ("state", "audit") and source.suffix == ".jsonl":
            _copy_audit(paths, source, target)
        else:
            _copy_file(source, target)
        copied.add(target)


def _walk(folder: Path) -> Iterator[Path]:
    """Regular files under ``folder``, sorted; symbolic links are not followed (nor copied)."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _copy_file(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as out, source.open("rb") as handle:
        shutil.copyfileobj(handle, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    stat = source.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the data version is built from mtimes


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent database even while the server writes sessions into it."""
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    with closing(sqlite3.connect(target)) as dst:  # one self-contained file, no WAL beside it
        dst.execute("pragma journal_mode=delete")


def _copy_audit(paths: DataPaths, source: Path, target: Path) -> None:
    """The audit log up to its last whole line, read under the lock its writers hold, with its anchor signed
    for the copy (the anchor lives beside the key, by the log's path: a restore elsewhere adopts it)."""
    from wangtai.auth import audit

    with _audit_lock(source):
        _copy_file(source, target)
        anchor = audit.portable_anchor(paths) if source == audit.audit_file(paths) else None
    if anchor is not None:
        fd = os.open(target.with_name(ANCHOR), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8") as out:
            json.dump(anchor, out)


@contextmanager
def _audit_lock(file: Path):
    from filelock import FileLock

    with FileLock(str(file.with_name(".audit.lock")), timeout=60):
        yield


def _write_manifest(paths: DataPaths, into: Path, copied: Copied) -> None:
    manifest = {
        "made_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "source": str(paths.root),
        "wangtai_version": _version(),
        "folders": copied.folders,
        "files": copied.files,
        "bytes": copied.bytes,
        "sizes": {
            str(path.relative_to(into)): path.stat().st_size for path in _walk(into) if path.name != MANIFEST
        },
    }
    fd = os.open(into / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="utf-8") as out:
        json.dump(manifest, out, ensure_ascii=False, indent=1)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wangtai")
    except PackageNotFoundError:
        return "unknown"


def read_manifest(source: Path) -> dict:
    file = source / MANIFEST
    if not file.is_file():
        raise BackupError(f"{source} 不是王台的备份（缺少 {MANIFEST}）。")
    return json.loads(file.read_text(encoding="utf-8"))


# ---- restore -------------------------------------------------------------------------------------------


@dataclass
class Restored:
    files: int
    moved_aside: Path | None
    audit_ok: bool
    audit_broken_line: int


def restore(source: Path, paths: DataPaths, force: bool = False) -> Restored:
    """Copy a backup into the data directory, which must be empty (``force``: move its content aside)."""
    source = source.absolute()
    manifest = read_manifest(source)
    _check_sizes(source, manifest)
    moved = None
    if paths.root.exists() and any(paths.root.iterdir()):
        if not force:
            raise BackupError(
                f"数据目录 {paths.root} 不是空的。恢复只写入空目录；确需替换现有数据请加 --force"
                "（现有内容会移到旁边的 …-replaced-<时间> 目录，不会删除）。"
            )
        moved = _move_aside(paths.root)
    _private_dir(paths.root)
    count = 0
    for name in manifest["folders"]:
        for file in _walk(source / name):
            target = paths.root / file.relative_to(source)
            _private_dir(target.parent)
            _copy_file(file, target)
            count += 1
    paths.ensure()
    from wangtai.auth import audit

    portable = audit.audit_file(paths).with_name(ANCHOR)
    if portable.is_file():
        audit.adopt_anchor(paths, json.loads(portable.read_text(encoding="utf-8")))
        portable.unlink()
    ok, broken = audit.verify(paths)
    return Restored(count, moved, ok, broken)


def _check_sizes(source: Path, manifest: dict) -> None:
    for relative, size in manifest.get("sizes", {}).items():
        file = source / relative
        if not file.is_file() or file.stat().st_size != size:
            raise BackupError(f"备份不完整或已被改动：{relative} 缺失或大小不符，未做任何恢复。")


def _move_aside(root: Path) -> Path:
    aside = root.with_name(f"{root.name}-replaced-{clock.now():%Y%m%dT%H%M%S}")
    _private_dir(aside)
    for child in sorted(root.iterdir()):
        shutil.move(str(child), str(aside / child.name))
    return aside
