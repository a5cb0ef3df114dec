"""Files ingest writes: atomic Parquet writes and moves, the manifest and the decisions."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from wangtai.contract import TABLES, arrow_schema
from wangtai.ingest.faults import OurFault
from wangtai.paths import PRIVATE_FILE, DataPaths, private_dir
from wangtai.warehouse import live_files

MANIFEST_SCHEMA = arrow_schema(TABLES["manifest"])
DECISION_SCHEMA = arrow_schema(TABLES["decisions"])


MAX_NAME_BYTES = 255  # a file name, in bytes (ext4, xfs, btrfs …)
# A stored name leaves room for temp_name's ".<name>.xxxxxxxx.tmp" around it.
MAX_STORED_BYTES = MAX_NAME_BYTES - len(".") - len(".xxxxxxxx.tmp")


def temp_name(target: Path) -> Path:
    """A hidden temporary name in the target's folder (readers skip names starting with '.')."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")


def stored_name(batch_id: str, name: str) -> str:
    """``<batch_id>__<name>`` for the archive and quarantine, shortened to fit a file name when the inbox
    name is long (it may use all 255 bytes): the name's start, a hash of the whole name, the extension.
    The manifest keeps the original name."""
    full = f"{batch_id}__{name}"
    if len(full.encode()) <= MAX_STORED_BYTES:
        return full
    suffix = ""  # the extensions kept whole (".parquet", ".parquet.symlink.txt"), 24 bytes at most
    for part in reversed(Path(name).suffixes):
        if len((part + suffix).encode()) > 24:
            break
        suffix = part + suffix
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    room = MAX_STORED_BYTES - len(f"{batch_id}__-{digest}".encode()) - len(suffix.encode())
    stem = name[: len(name) - len(suffix)].encode()[:room].decode(errors="ignore")
    return f"{batch_id}__{stem}-{digest}{suffix}"


def _create_private(path: Path) -> int:
    """A new file readable by its owner only, whatever the umask (the caller writes and closes the fd)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return fd


def _ours(action):
    """Run a write of ours: any OSError it raises is a failure of ours (OurFault), not a verdict on input."""
    try:
        return action()
    except OSError as error:
        raise OurFault(error) from error


def write_table(table: pa.Table, target: Path, metadata: dict[str, str] | None = None) -> None:
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})

    def write() -> None:
        private_dir(target.parent)
        tmp = temp_name(target)
        try:
            os.close(_create_private(tmp))
            pq.write_table(table, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    _ours(write)


class AtomicParquetWriter:
    """Streams record batches into a hidden temp file; commit() renames it into place, discard() drops it.
    A failure to write raises OurFault (the caller keeps the input file for another try)."""

    def __init__(self, target: Path, schema: pa.Schema):
        self.target = target
        self.schema = schema
        self.rows = 0
        self._tmp: Path | None = None
        self._writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            _ours(self._open)
        if table.num_rows:
            rows = table.cast(self.schema)
            _ours(lambda: self._writer.write_table(rows))
            self.rows += table.num_rows

    def _open(self) -> None:
        private_dir(self.target.parent)
        self._tmp = temp_name(self.target)
        os.close(_create_private(self._tmp))
        self._writer = pq.ParquetWriter(self._tmp, self.schema)

    def commit(self) -> None:
        if self._writer is None:
            self.write(self.schema.empty_table())
        _ours(self._close)
        _ours(lambda: os.replace(self._tmp, self.target))
        self._tmp = None

    def _close(self) -> None:
        writer, self._writer = self._writer, None
        writer.close()

    def discard(self) -> None:
        """Drop the temp file (also after a failed write or close: no half-written file stays behind)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(OSError):  # the disk that failed the write may fail the close too
                writer.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


def move_file(source: Path, target: Path) -> None:
    """Rename source to target (the entry itself, never what a link points to) and make it private.
    Raises OSError(EXDEV) across file systems: the caller copies from its open handle instead."""

    def move() -> None:
        private_dir(target.parent)
        os.replace(source, target)
        if not os.path.islink(target):
            # an inbox file owned by another user cannot be changed: its 0700 folder still guards it
            with contextlib.suppress(PermissionError):
                os.chmod(target, PRIVATE_FILE)

    try:
        move()
    except OSError as error:
        if error.errno == errno.EXDEV:
            raise
        raise OurFault(error) from error


def copy_from_handle(handle, target: Path) -> None:
    """Copy an open file (from its start) to target atomically, readable by its owner only."""

    def copy() -> None:
        private_dir(target.parent)
        tmp = temp_name(target)
        try:
            handle.seek(0)
            with os.fdopen(_create_private(tmp), "wb") as out:
                shutil.copyfileobj(handle, out, 1 << 20)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    _ours(copy)


def write_private_text(target: Path, text: str) -> None:
    """A small text file written atomically, readable by its owner only (replaces whatever entry is there,
    a link included, without following it)."""

    def write() -> None:
        private_dir(target.parent)
        tmp = temp_name(target)
        try:
            with os.fdopen(_create_private(tmp), "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    _ours(write)


def _read_folder(folder: Path, schema: pa.Schema) -> pa.Table:
    files = live_files(folder)
    if not files:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(p).select(schema.names).cast(schema) for p in files])


def read_manifest(paths: DataPaths) -> pa.Table:
    return _read_folder(paths.warehouse / "manifest", MANIFEST_SCHEMA)


def read_decisions(paths: DataPaths) -> pa.Table:
    return _read_folder(paths.warehouse / "decisions", DECISION_SCHEMA)


def write_manifest_row(paths: DataPaths, row: dict) -> None:
    table = pa.Table.from_pylist([row], schema=MANIFEST_SCHEMA)
    write_table(table, paths.warehouse / "manifest" / f"{row['batch_id']}.parquet")


def write_decision_row(paths: DataPaths, row: dict) -> None:
    table = pa.Table.from_pylist([row], schema=DECISION_SCHEMA)
    write_table(table, paths.warehouse / "decisions" / f"{row['decision_id']}.parquet")


def relative(paths: DataPaths, path: Path | None) -> str | None:
    return None if path is None else path.relative_to(paths.root).as_posix()
