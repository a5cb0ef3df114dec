"""A file uploaded on the 数据导入 page: first what ingest would do with it — ingest's own dry run
(``core.dry_run``: the same reader, limits, row checks, duplicates and holds, nothing written) — then, once
confirmed, the file put into ``inbox/<feed>/`` the way every source system puts one (a hidden name, then a
rename), where ingest takes it like any other: one validation, one manifest row.

    recognise(paths, data, name) -> [feed, …]          # from the headers, when the feed is not chosen
    preview(paths, feed, data, name) -> Preview        # nothing written but a scratch copy, deleted at once
    put_into_inbox(paths, feed, data, name) -> Path
    wait_until_landed(paths, feed, path, sha256) -> manifest row | None

Nothing here shows a personal value: the preview's rows are those the warehouse would keep (masked,
pseudonymized), and of the rows quarantine would keep only the row number, the reasons and the masked id
number and name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.contract import FEEDS
from wangtai.ingest import faults
from wangtai.ingest.core import FileResult, ReadAs, dry_run, ingest_all
from wangtai.ingest.pii import mask_ids, mask_names
from wangtai.ingest.readers import is_temporary, load_header_names, recognise_feed
from wangtai.ingest.reasons import COLUMN_LABELS
from wangtai.ingest.store import read_manifest
from wangtai.paths import PRIVATE_FILE, DataPaths, private_dir

SHOWN_ROWS = 5  # rows of each kind the preview shows
MAX_NAME_BYTES = 200  # an uploaded file's name in the inbox (the archive adds the batch id)
# Warehouse columns the preview shows, with their Chinese names (person_key, batch_id, cell_id are not shown)
STORED_LABELS = {
    "id_masked": "身份证号（脱敏）",
    "name_masked": "姓名（脱敏）",
    "phone_masked": "电话（脱敏）",
    "gender": "性别",
    "birth_year": "出生年份",
    "home_region": "户籍地区码",
}
HIDDEN = ("batch_id", "person_key", "cell_id")
NOT_SHOWN = "（格式不符，不显示）"


@dataclass
class Preview:
    """What ingest would do with an uploaded file, before anything is written."""

    feed: str
    name: str
    sha256: str
    result: FileResult  # the manifest row ingest would write (its outcome, counts and reason)
    read_as: ReadAs | None  # Excel/CSV: sheet, encoding, the columns' headers
    mapping: pd.DataFrame  # 字段, 文件中的列, 说明
    stored: pd.DataFrame  # the first rows as the warehouse would keep them (masked)
    refused: pd.DataFrame  # the first rows quarantine would keep: 行号, 原因, masked id number and name

    @property
    def confirmable(self) -> bool:
        """Worth putting into the inbox: rows would land (a held snapshot waits for a decision)."""
        return self.result.outcome in ("accepted", "held")


@contextlib.contextmanager
def _scratch(paths: DataPaths, data: bytes) -> Iterator[Path]:
    """The upload as a private file in state/uploads/ (hidden ``.tmp``: a leftover of a killed process is
    swept by ingest), deleted when done."""
    folder = private_dir(paths.state / "uploads")
    path = folder / f".{secrets.token_hex(8)}.tmp"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield path
    finally:
        path.unlink(missing_ok=True)


def recognise(paths: DataPaths, data: bytes, name: str) -> list[str]:
    """The feeds whose header the file has (wangtai.ingest.readers.recognise_feed)."""
    names = load_header_names(paths.reference)
    with _scratch(paths, data) as path:
        return recognise_feed(path, names, name=name)


def preview(paths: DataPaths, feed: str, data: bytes, name: str, now: datetime | None = None) -> Preview:
    """Ingest's dry run over the upload as if it landed in ``inbox/<feed>/`` as ``name``. Raises IngestError
    (Chinese) when the reference data or the column names cannot be used."""
    name = inbox_name(name)
    with _scratch(paths, data) as path:
        run = dry_run(paths, feed, path, name=name, now=now)
    parquet = run.read_as is None
    return Preview(
        feed=feed,
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        result=run.result,
        read_as=run.read_as,
        mapping=_mapping(feed, run.read_as),
        stored=_stored(run.accepted),
        refused=_refused(run.quarantined, parquet),
    )


def _mapping(feed: str, read_as: ReadAs | None) -> pd.DataFrame:
    rows = []
    for column in FEEDS[feed].columns:
        if read_as is None:
            source = column.name
        elif column.name in read_as.mapping:
            source = read_as.mapping[column.name]
        else:
            source = "（未提供，按空值）" if column.nullable else "（缺少）"
        rows.append(
            {"字段": f"{COLUMN_LABELS.get(column.name, column.name)}（{column.name}）", "文件中的列": source}
        )
    frame = pd.DataFrame(rows)
    if read_as is not None and read_as.unused:
        extra = pd.DataFrame([{"字段": "（不读取）", "文件中的列": "、".join(read_as.unused)}])
        frame = pd.concat([frame, extra], ignore_index=True)
    return frame


def _stored(table: pa.Table | None) -> pd.DataFrame:
    """The first rows as the warehouse would keep them: masked and pseudonymized already."""
    if table is None:
        return pd.DataFrame()
    table = table.slice(0, SHOWN_ROWS).drop_columns([c for c in HIDDEN if c in table.column_names])
    labels = {c: STORED_LABELS.get(c) or COLUMN_LABELS.get(c, c) for c in table.column_names}
    return table.to_pandas().rename(columns=labels)


def _refused(table: pa.Table | None, parquet: bool) -> pd.DataFrame:
    """The first rows quarantine would keep: where (Excel's row number; a Parquet row counted from 1), why,
    and who — masked. No other cell of theirs is shown (any of them may be personal)."""
    if table is None:
        return pd.DataFrame()
    table = table.slice(0, SHOWN_ROWS)
    rows = table.column("_row").to_numpy() + (1 if parquet else 0)
    frame = pd.DataFrame({"行号": rows, "原因": table.column("_reasons").to_pylist()})
    if "id_number" in table.column_names:
        frame["身份证号（脱敏）"] = _masked_ids(table.column("id_number").cast(pa.string()))
    if "name" in table.column_names:
        frame["姓名（脱敏）"] = mask_names(table.column("name").cast(pa.string())).to_pylist()
    return frame


def _masked_ids(ids: pa.ChunkedArray) -> list[str | None]:
    """The warehouse's shorter mask (a minor's: region only) of an 18-character id number — the row number
    finds the row, and a refused row's birth date is not known to be right; anything else (a short or damaged
    value, which a mask would show most of) is not shown at all."""
    ids = ids.combine_chunks()
    whole = pc.equal(pc.utf8_length(ids), 18)
    return pc.if_else(whole, mask_ids(ids, np.ones(len(ids), bool)), pa.scalar(NOT_SHOWN)).to_pylist()


# ---- into the inbox ---------------------------------------------------------------------------------------


def inbox_name(name: str) -> str:
    """The uploaded file's name as it may stand in the inbox: no folders, not a name ingest leaves alone
    (``.x``, ``~$x``), not longer than a file name may be."""
    name = Path(name.replace("\\", "/")).name.strip() or "上传文件"
    name = "".join(ch for ch in name if ch.isprintable())
    if is_temporary(name):
        name = "上传_" + name.lstrip(".~$")
    if is_temporary(name):  # a .tmp or .part name: ingest would never look at it (and cannot read it)
        name += "_"
    suffix = Path(name).suffix if len(Path(name).suffix.encode()) <= 16 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    while len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + suffix


def put_into_inbox(paths: DataPaths, feed: str, data: bytes, name: str) -> Path:
    """Write the file into ``inbox/<feed>/`` as a source system must: under a hidden name, then linked into
    place under a name no other file has (``x_2.xlsx`` when ``x.xlsx`` waits there), atomically."""
    folder = paths.feed_inbox(feed)
    folder.mkdir(parents=True, exist_ok=True)
    hidden = folder / f".{secrets.token_hex(8)}.upload.tmp"
    fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return _link_free(hidden, folder, inbox_name(name))
    finally:
        hidden.unlink(missing_ok=True)


def _link_free(hidden: Path, folder: Path, name: str) -> Path:
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        target = folder / (name if n == 1 else f"{stem}_{n}{suffix}")
        try:
            os.link(hidden, target)  # never replaces a file waiting there
            return target
        except FileExistsError:
            continue
    raise FileExistsError(f"收件箱中同名文件过多：{name}")


def landed(paths: DataPaths, feed: str, name: str, sha256: str) -> dict | None:
    """The manifest row ingest wrote for this file (the latest, if it came more than once)."""
    rows = [
        row
        for row in read_manifest(paths).to_pylist()
        if row["feed"] == feed and row["file_name"] == name and row["sha256"] == sha256
    ]
    return max(rows, key=lambda row: row["ingested_at"], default=None)


def waiting_problem(paths: DataPaths, feed: str, name: str) -> str | None:
    """Why ingest has not taken the file yet, when it says so (paused, the file set aside)."""
    status = faults.load(paths)
    entry = status.set_aside.get(faults.file_key(feed, name))
    if entry is not None:
        return entry["message"]
    return status.pause["message"] if status.pause else None


def wait_until_landed(
    paths: DataPaths, feed: str, path: Path, sha256: str, timeout: float = 60.0, poll: float = 0.25
) -> dict | None:
    """Ingest the inbox now (or let the process that is ingesting do it) until the file's manifest row is
    there; None after ``timeout`` seconds or when ingest says why it waits (waiting_problem)."""
    deadline = time.monotonic() + timeout
    while True:
        row = landed(paths, feed, path.name, sha256)
        if row is not None:
            return row
        if time.monotonic() > deadline or (path.exists() and waiting_problem(paths, feed, path.name)):
            return None
        ingest_all(paths, wait=False)  # None when another run holds the lock: it takes the file then
        if landed(paths, feed, path.name, sha256) is None:
            time.sleep(poll)
