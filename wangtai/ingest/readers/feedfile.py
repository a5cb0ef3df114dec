"""What a reader returns: a FeedFile (the file as a whole) and its ReadBatches (rows in contract types)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.contract import Feed
from wangtai.ingest.readers.cells import Cells, convert
from wangtai.ingest.readers.examples import EXAMPLE_ROW_REASON, example_key
from wangtai.ingest.readers.headers import label
from wangtai.ingest.readers.kinds import FORMAT_LABELS
from wangtai.ingest.reasons import column_label
from wangtai.ingest.validate import ARROW_TYPES, Checked

ID_NUMBERS_LOST = "身份证号被 Excel 转成了数字（科学计数法），后几位已丢失；请把该列设为文本后重新导出"
REQUIRED_EMPTY = (
    "{}为空（必填）"  # validate.check_rows' wording (column_label), dropped when the reader said why
)


@dataclass(frozen=True)
class Refusal:
    """The whole file cannot be taken: why, and what to do (Chinese, no personal value; one or more
    sentences, the last without its closing "。", so that a caller can append its own)."""

    reason: str
    unreadable: bool = False  # the bytes could not be parsed at all: maybe still being written

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", self.reason.rstrip("。"))


@dataclass
class ReadBatch:
    """Rows of a file, in order.

    ``batch``: the contract's columns by their contract names (Parquet: the file's own columns, as
    today); for Excel and CSV already of the contract types, so ``cast_batch`` passes them through.
    ``rows``: each row's number as the sender sees it — Excel/CSV: the row in the sheet, 1-based,
    counting the title and header rows (so "第 12 行" is row 12 in Excel); Parquet: the 0-based row index
    (quarantine ``_row`` as today). ``problems``: None, or the reasons the reader refused the row
    (Chinese, "；"-joined, no personal value); such a row's faulty cells are null in ``batch``.
    """

    batch: pa.RecordBatch
    rows: np.ndarray
    problems: np.ndarray
    _text: Callable[[], pa.RecordBatch]

    @property
    def num_rows(self) -> int:
        return self.batch.num_rows

    @property
    def bad(self) -> np.ndarray:
        """Rows the reader refused."""
        return _is_set_mask(self.problems)

    def text(self) -> pa.RecordBatch:
        """The rows as the text that arrived (for quarantine), columns named as ``FeedFile.text_columns``."""
        return self._text()


@dataclass
class FeedFile:
    """One inbox file opened for a feed. ``refusal`` set: nothing to read (``batches`` yields nothing)."""

    path: Path
    feed: Feed
    format: str | None  # "parquet", "xlsx", "xls", "csv"; None when the type is not supported
    refusal: Refusal | None = None
    num_rows: int = 0  # rows with data (empty rows not counted); for a refused file as far as known
    mapping: dict[str, str] = field(default_factory=dict)  # contract column → header as written
    absent: list[str] = field(default_factory=list)  # nullable contract columns not in the file: null
    unused: list[str] = field(default_factory=list)  # headers of the file's columns not used
    sheet: str | None = None  # Excel: the worksheet read
    header_rows: tuple[int, int] | None = None  # Excel/CSV: first and last header row (1-based)
    encoding: str | None = None  # CSV: e.g. "GB18030"
    delimiter: str | None = None  # CSV
    notes: list[str] = field(default_factory=list)  # what the reader did, in Chinese, for the manifest
    text_columns: list[str] = field(default_factory=list)  # the columns of ReadBatch.text()
    _batches: Callable[[], Iterator[ReadBatch]] | None = None
    _close: Callable[[], None] | None = None

    def close(self) -> None:
        """Release what the reader holds (CSV: the temporary UTF-8 copy). Also ``with open_feed_file(…)``."""
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> FeedFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def batches(self) -> Iterator[ReadBatch]:
        if self.refusal is not None or self._batches is None:
            return iter(())
        return self._batches()

    def describe(self) -> str:
        """One line for the manifest or the preview: how the file was read."""
        parts = [FORMAT_LABELS.get(self.format or "", "未知类型")]
        if self.sheet is not None:
            parts.append(f"工作表「{self.sheet}」")
        if self.encoding:
            parts.append(f"编码 {self.encoding}")
        if self.delimiter:
            parts.append(f"分隔符 {DELIMITER_LABELS.get(self.delimiter, self.delimiter)}")
        if self.header_rows:
            top, bottom = self.header_rows
            parts.append(f"表头在第 {top} 行" if top == bottom else f"表头在第 {top}–{bottom} 行")
        text = "，".join(parts)
        if self.mapping and self.format != "parquet":
            pairs = [f"{source}→{column}" for column, source in self.mapping.items()]
            text += "。列对应：" + "、".join(pairs)
        if self.absent:
            text += f"。未提供（按空值）：{'、'.join(self.absent)}"
        return text + "。" + "".join(f"{note}。" for note in self.notes)


DELIMITER_LABELS = {",": "逗号", "\t": "制表符", ";": "分号"}


def refused(
    path: Path, feed: Feed, fmt: str | None, reason: str, unreadable: bool = False, **more
) -> FeedFile:
    return FeedFile(path, feed, fmt, Refusal(reason, unreadable), **more)


@dataclass
class Chunk:
    """Consecutive rows of a sheet: the mapped columns' cells, and the sheet row of the first."""

    first_row: int
    cells: dict[str, Cells]
    n: int


@dataclass
class Tally:
    """What reading the rows found, for the file-level decisions."""

    rows: int = 0  # rows with data
    empty: int = 0  # rows without any data in the feed's columns (not counted)
    ids: int = 0  # id numbers present
    lost_ids: int = 0  # id numbers Excel turned into numbers


def read_chunk(feed: Feed, chunk: Chunk, tally: Tally) -> ReadBatch | None:
    """A chunk's rows with data, typed to the contract, with the reader's problems (None: all empty)."""
    n = chunk.n
    empty = np.ones(n, dtype=bool)
    for cells in chunk.cells.values():
        empty &= cells.empty()
    keep = ~empty
    tally.empty += int(empty.sum())
    if not keep.any():
        return None
    arrays: dict[str, pa.Array] = {}
    problems: list[tuple[np.ndarray, str]] = []
    for column in feed.columns:
        cells = chunk.cells.get(column.name)
        if cells is None:
            arrays[column.name] = pa.nulls(n, ARROW_TYPES[column.type])
            continue
        converted = convert(cells, column, label(feed.name, column.name))
        arrays[column.name] = converted.values
        problems += converted.problems
        if column.name == "id_number":
            _count_ids(tally, keep & ~cells.empty(), converted.problems)
    key = arrays[feed.key]
    example = pc.equal(pc.utf8_upper(pc.cast(key, pa.string())), example_key(feed.name).upper())
    problems.append((pc.fill_null(example, False).to_numpy(zero_copy_only=False), EXAMPLE_ROW_REASON))
    mask = pa.array(keep)
    rows = (chunk.first_row + np.arange(n, dtype=np.int64))[keep]
    reasons = _join(problems, n)[keep]
    tally.rows += len(rows)
    batch = pa.RecordBatch.from_pydict({k: v.filter(mask) for k, v in arrays.items()})
    return ReadBatch(batch, rows, reasons, lambda: _texts(feed, chunk, mask))


def _texts(feed: Feed, chunk: Chunk, mask: pa.Array) -> pa.RecordBatch:
    """The kept rows' cells as the text that arrived, by contract column (absent columns: null)."""
    n = int(mask.true_count)
    return pa.RecordBatch.from_pydict(
        {
            c: chunk.cells[c].text().filter(mask) if c in chunk.cells else pa.nulls(n, pa.string())
            for c in feed.column_names
        }
    )


def _count_ids(tally: Tally, present: np.ndarray, problems: list[tuple[np.ndarray, str]]) -> None:
    tally.ids += int(present.sum())
    tally.lost_ids += int(sum((mask & present).sum() for mask, _ in problems))


def scan_chunk(feed: Feed, chunk: Chunk, tally: Tally) -> None:
    """Count a chunk's rows with data and its damaged id numbers, without converting the other columns."""
    empty = np.ones(chunk.n, dtype=bool)
    for cells in chunk.cells.values():
        empty &= cells.empty()
    tally.empty += int(empty.sum())
    tally.rows += int((~empty).sum())
    if "id_number" in chunk.cells:
        column = next(c for c in feed.columns if c.name == "id_number")
        cells = chunk.cells["id_number"]
        converted = convert(cells, column, label(feed.name, "id_number"))
        _count_ids(tally, ~empty & ~cells.empty(), converted.problems)


_is_set = np.frompyfunc(lambda p: p is not None, 1, 1)


def _is_set_mask(values: np.ndarray) -> np.ndarray:
    return _is_set(values).astype(bool)


def _join(problems: list[tuple[np.ndarray, str]], n: int) -> np.ndarray:
    reasons = np.full(n, None, dtype=object)
    bad = np.zeros(n, dtype=bool)
    for mask, _ in problems:
        bad |= mask
    for i in np.flatnonzero(bad):
        reasons[i] = "；".join(message for mask, message in problems if mask[i])
    return reasons


def merge_problems(checked: Checked, read: ReadBatch) -> Checked:
    """``check_rows``' result with the reader's problems added: those rows refused too, the reader's reasons
    first; "X 为空（必填）" dropped where the reader already said why column X is empty."""
    mine = read.problems
    own_bad = read.bad
    if not own_bad.any():
        return checked
    bad = checked.bad | own_bad
    reasons = checked.reasons.copy()
    for i in np.flatnonzero(own_bad):
        own = mine[i].split("；")
        said = {part.split("（", 1)[0] for part in own}
        theirs = [] if checked.reasons[i] is None else checked.reasons[i].split("；")
        theirs = [p for p in theirs if not any(p == REQUIRED_EMPTY.format(column_label(c)) for c in said)]
        reasons[i] = "；".join([*own, *theirs])
    return Checked(columns=checked.columns, bad=bad, reasons=reasons, key=checked.key, ids=checked.ids)
