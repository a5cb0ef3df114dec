"""Excel workbooks (.xlsx, .xls) through python-calamine: the sheet with the feed's header, its rows typed.

calamine keeps each cell's type (text, number, date), which is what tells an id number Excel turned into a
number from one typed as text; docs/benchmarks.md ("Reading Excel and CSV") has the measurements behind
the choice. calamine holds the whole sheet in memory; the rows are counted when the file is opened, and
converted chunk by chunk when they are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from wangtai.ingest.readers.cells import Cells
from wangtai.ingest.readers.feedfile import (
    ID_NUMBERS_LOST,
    Chunk,
    FeedFile,
    ReadBatch,
    Refusal,
    Tally,
    read_chunk,
    refused,
    scan_chunk,
)
from wangtai.ingest.readers.header_row import (
    SCAN_ROWS,
    Header,
    find_header,
    incomplete,
    looked_like,
    misplaced,
    not_found,
)
from wangtai.ingest.readers.headers import FeedNames, HeaderNames

CHUNK_ROWS = 10_000
UNREADABLE = (
    "无法作为 Excel 工作簿读取（文件可能已损坏、没有写完，或并不是 Excel 文件）；"
    "请在 Excel 中打开确认后另存为 .xlsx 再放入"
)


@dataclass
class _Sheet:
    name: str
    sheet: object  # CalamineSheet
    head: list[list]
    header: Header | None


def open_excel(
    path: Path, fmt: str, names: FeedNames, header_names: HeaderNames, notes: list[str]
) -> FeedFile:
    feed = names.feed
    try:
        with open(path, "rb") as handle:
            book = CalamineWorkbook.from_filelike(handle)
        sheets = _sheets(book, names)
    except PasswordError:
        return refused(path, feed, fmt, "工作簿设置了密码；请取消密码后另存为 .xlsx 再放入", notes=notes)
    except Exception:
        return refused(path, feed, fmt, UNREADABLE, unreadable=True, notes=notes)
    if not any(s.head for s in sheets):
        return refused(path, feed, fmt, "工作簿是空的：没有一个（未隐藏的）工作表有内容", notes=notes)
    chosen = _choose(path, fmt, sheets, names, header_names, notes)
    if isinstance(chosen, FeedFile):
        return chosen
    return _read_sheet(path, fmt, chosen, sheets, names, notes)


def _sheets(book: CalamineWorkbook, names: FeedNames | None) -> list[_Sheet]:
    """The visible worksheets, each with its first rows and the feed's header in them (if any)."""
    found = []
    for meta in book.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet or meta.visible != SheetVisibleEnum.Visible:
            continue
        sheet = book.get_sheet_by_name(meta.name)
        head = [] if sheet.start is None else list(islice(sheet.iter_rows(), SCAN_ROWS))
        found.append(_Sheet(meta.name, sheet, head, find_header(head, names) if head and names else None))
    return found


def _choose(
    path, fmt, sheets: list[_Sheet], names: FeedNames, header_names: HeaderNames, notes
) -> _Sheet | FeedFile:
    """The one sheet with the feed's complete header; else a refusal saying which sheets were looked at."""
    feed = names.feed
    complete = [s for s in sheets if s.header is not None and s.header.complete(names)]
    if len(complete) > 1:
        listed = "、".join(f"「{s.name}」" for s in complete)
        why = (
            f"有 {len(complete)} 个工作表都是{feed.label}表（{listed}），无法确定读哪一个；"
            "请每个文件只保留一个这样的工作表（可分成几个文件放入）"
        )
        return refused(path, feed, fmt, why, notes=notes)
    if complete:
        return complete[0]
    partial = [s for s in sheets if s.header is not None]
    if partial:
        best = max(partial, key=lambda s: s.header.score)
        why = incomplete(f"工作表「{best.name}」", best.header, names)
        return refused(path, feed, fmt, why + misplaced(best.head, names, header_names), notes=notes)
    filled = [s for s in sheets if s.head]
    if len(filled) == 1:
        return refused(
            path, feed, fmt, not_found(f"工作表「{filled[0].name}」", filled[0].head, names, header_names)
        )
    looked = "；".join(f"「{s.name}」：{looked_like(s.head, header_names, rows=4)}" for s in filled[:5])
    hints = "".join(dict.fromkeys(misplaced(s.head, names, header_names) for s in filled))
    why = (
        f"{len(filled)} 个有内容的工作表中都没有找到{feed.label}的表头。"
        f"应有的列见 README「接入 Excel / CSV」。各工作表开头：{looked}。{hints}"
    )
    return refused(path, feed, fmt, why, notes=notes)


def _chunks(chosen: _Sheet, columns: dict[str, int]) -> Iterator[Chunk]:
    """The sheet's rows after the header, CHUNK_ROWS at a time, as the mapped columns' cells."""
    rows = islice(chosen.sheet.iter_rows(), chosen.header.bottom + 1, None)
    first_row = chosen.header.bottom + 2  # iter_rows starts at the sheet's row 1 (index 0)
    while block := list(islice(rows, CHUNK_ROWS)):
        by_column = list(zip(*block, strict=False))  # calamine's rows are all as wide as the sheet
        cells = {
            c: Cells.from_python(by_column[j] if j < len(by_column) else [""] * len(block))
            for c, j in columns.items()
        }
        yield Chunk(first_row, cells, len(block))
        first_row += len(block)


def _batches(feed, chosen: _Sheet, columns: dict[str, int]) -> Iterator[ReadBatch]:
    for chunk in _chunks(chosen, columns):
        batch = read_chunk(feed, chunk, Tally())
        if batch is not None:
            yield batch


def _read_sheet(
    path, fmt, chosen: _Sheet, sheets: list[_Sheet], names: FeedNames, notes: list[str]
) -> FeedFile:
    """The chosen sheet counted (rows with data, id numbers Excel destroyed) before any row is converted;
    its rows converted chunk by chunk when ``batches()`` is iterated (calamine keeps the sheet meanwhile)."""
    feed, header = names.feed, chosen.header
    columns = dict(header.columns)
    tally = Tally()
    for chunk in _chunks(chosen, columns):
        scan_chunk(feed, chunk, tally)
    others = [s.name for s in sheets if s is not chosen and s.head]
    if others:
        notes = [*notes, f"其他工作表未读取：{'、'.join(others)}"]
    if tally.empty:
        notes = [*notes, f"跳过 {tally.empty} 个空行"]
    if tally.rows == 0:
        notes = [*notes, "只有表头，没有数据行"]
    result = FeedFile(
        path,
        feed,
        fmt,
        num_rows=tally.rows,
        mapping={c: header.sources[c] for c in feed.column_names if c in columns},
        absent=[c.name for c in feed.columns if c.name not in columns],
        unused=header.unused,
        sheet=chosen.name,
        header_rows=(header.top + 1, header.bottom + 1),
        notes=notes,
        text_columns=feed.column_names,
        _batches=lambda: _batches(feed, chosen, columns),
    )
    if tally.ids and tally.lost_ids == tally.ids:
        result.refusal = Refusal(ID_NUMBERS_LOST)
    return result


def sheet_heads(path: Path) -> list[list[list]]:
    """The first rows of each visible worksheet (none when the file cannot be read as a workbook)."""
    try:
        with open(path, "rb") as handle:
            book = CalamineWorkbook.from_filelike(handle)
        return [s.head for s in _sheets(book, None) if s.head]
    except Exception:
        return []
