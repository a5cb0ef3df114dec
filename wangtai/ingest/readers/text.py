"""CSV (and tab-separated .txt / .tsv) files: the encoding decided, never guessed; the delimiter and the
header found in the first rows; the rows streamed through pyarrow.csv as text.

Encoding, in this order and only by strict decoding of the whole file: a byte-order mark (UTF-8, UTF-16:
Excel's "Unicode 文本"), else UTF-8, else GB18030 (which contains GBK and GB2312). A file that decodes in
neither is refused with the line where it fails. Delimiter: comma, tab or semicolon, whichever gives the
feed's header. The file is read twice — once to count the rows and find whole-file problems (rows with a
different number of columns, id numbers Excel destroyed), once for the rows — so that ``FeedFile`` knows
both before a single row is written.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from wangtai.ingest.readers.cells import Cells
from wangtai.ingest.readers.feedfile import (
    ID_NUMBERS_LOST,
    Chunk,
    FeedFile,
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
    misplaced,
    not_found,
    one_cell_header,
)
from wangtai.ingest.readers.headers import FeedNames, HeaderNames

DELIMITERS = (",", "\t", ";")
HEAD_BYTES = 256 * 1024  # enough for the title and header rows of any sheet
BLOCK_BYTES = 1 << 22
SAVE_AS_CSV = "请在 Excel 中打开后另存为“CSV UTF-8（逗号分隔）”或 Excel（.xlsx）再放入"
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8（带 BOM）"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))  # fmt: skip


@dataclass
class Encoding:
    codec: str  # Python codec name
    label: str  # as shown to people
    utf8: BinaryIO | None = None  # the file transcoded to UTF-8 (an anonymous temporary file), if not UTF-8


def _fails_at(path: Path, codec: str, sink: BinaryIO | None = None) -> tuple[int, bool] | None:
    """None when the whole file decodes strictly (written to ``sink`` as UTF-8 if given); else the line
    where it fails, and whether only the end is cut off (a file still being written)."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    lines = 1
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as error:
                return lines + block[: max(error.start, 0)].count(b"\n"), False
            if sink is not None:
                sink.write(text.encode("utf-8"))
            lines += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return lines, True
    return None


def _transcoded(path: Path, codec: str) -> tuple[BinaryIO | None, tuple[int, bool] | None]:
    """The file decoded strictly and written as UTF-8 to an anonymous temporary file (no name, mode 0600,
    gone when closed: the raw rows never lie around), so that pyarrow reads UTF-8 at full speed."""
    sink = tempfile.TemporaryFile()  # noqa: SIM115 — FeedFile.close() closes it
    failed = _fails_at(path, codec, sink)
    if failed is not None:
        sink.close()
        return None, failed
    sink.seek(0)
    return sink, None


def detect_encoding(path: Path) -> Encoding | Refusal:
    """The file's encoding, decided by strict decoding (see the module's docstring), or a refusal."""
    with open(path, "rb") as handle:
        head = handle.read(64 * 1024)
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            sink, failed = (
                (None, _fails_at(path, codec)) if codec == "utf-8-sig" else _transcoded(path, codec)
            )
            if failed is None:
                return Encoding(codec, name, sink)
            return Refusal(
                f"文件以 {name} 标记开头，但第 {failed[0]} 行附近有无法解码的内容；{SAVE_AS_CSV}", failed[1]
            )
    if b"\x00" in head:
        return Refusal(f"文件不是文本（含有二进制内容），无法按 CSV 读取；{SAVE_AS_CSV}")
    utf8 = _fails_at(path, "utf-8")
    if utf8 is None:
        return Encoding("utf-8", "UTF-8")
    sink, gb = _transcoded(path, "gb18030")
    if gb is None:
        return Encoding("gb18030", "GB18030（GBK）", sink)
    return Refusal(
        f"无法确定文件的编码：它既不是 UTF-8（第 {utf8[0]} 行附近无法解码），"
        f"也不是 GB18030/GBK（第 {gb[0]} 行附近无法解码）；"
        f"{SAVE_AS_CSV}",
        unreadable=utf8[1] and gb[1],
    )


def _head_text(path: Path, encoding: Encoding) -> str:
    """The beginning of the file as text, up to the last complete line."""
    with open(path, "rb") as handle:
        raw = handle.read(HEAD_BYTES)
        more = bool(handle.read(1))
    text = codecs.getincrementaldecoder(encoding.codec)("strict").decode(raw, final=not more)
    if more and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def _records(text: str, delimiter: str) -> tuple[list[list], list[int]]:
    """The first records as cells, and after each the number of lines read (quoted cells may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid, lines = [], []
    try:
        for record in reader:
            grid.append(record)
            lines.append(reader.line_num)
            if len(grid) >= SCAN_ROWS:
                break
    except csv.Error:
        pass
    return grid, lines


def open_text(path: Path, names: FeedNames, header_names: HeaderNames, notes: list[str]) -> FeedFile:
    feed = names.feed
    encoding = detect_encoding(path)
    if isinstance(encoding, Refusal):
        return FeedFile(path, feed, "csv", encoding, notes=notes)
    found = _open_decoded(path, encoding, names, header_names, notes)
    if encoding.utf8 is not None:
        if found.refusal is None:
            found._close = encoding.utf8.close
        else:
            encoding.utf8.close()
    return found


def _open_decoded(
    path: Path, encoding: Encoding, names: FeedNames, header_names: HeaderNames, notes
) -> FeedFile:
    feed = names.feed
    text = _head_text(path, encoding)
    best: tuple[Header, str, list[list], list[int]] | None = None
    for delimiter in DELIMITERS:
        grid, lines = _records(text, delimiter)
        header = find_header(grid, names)
        if header is not None and (best is None or header.score > best[0].score):
            best = (header, delimiter, grid, lines)
    more = {"encoding": encoding.label, "notes": notes}
    if best is None:
        grid, _ = _records(text, ",")
        return refused(path, feed, "csv", _no_header(grid, names, header_names), **more)
    header, delimiter, grid, lines = best
    more["delimiter"] = delimiter
    if not header.complete(names):
        why = incomplete("文件", header, names) + misplaced(grid, names, header_names)
        return refused(path, feed, "csv", why, **more)
    layout = _Layout(path, encoding, delimiter, header, lines[header.bottom], _width(grid, header))
    return layout.open(names, notes)


def _width(grid: list[list], header: Header) -> int:
    """How many fields a row has: the header's count, unless every data row seen has another count that
    still holds the feed's columns (a trailing delimiter on each data row, or empty names at the header's
    end): pyarrow then reads the rows as they are, and rows that differ from it are refused."""
    width = max(map(len, grid[header.top : header.bottom + 1]))
    seen = {len(row) for row in grid[header.bottom + 1 :] if row}
    if len(seen) == 1 and (common := seen.pop()) > max(header.columns.values()):
        return common
    return width


def head_grids(path: Path) -> list[list[list]]:
    """The first records split at each delimiter, for recognising a feed: only the beginning is decoded
    (the strict decision on the whole file is open_feed_file's). None when it decodes in neither."""
    with open(path, "rb") as handle:
        raw = handle.read(HEAD_BYTES)
    codecs_tried = [codec for bom, codec, _ in _BOMS if raw.startswith(bom)] or ["utf-8", "gb18030"]
    for codec in codecs_tried:
        try:
            text = codecs.getincrementaldecoder(codec)("strict").decode(raw, final=False)
        except UnicodeDecodeError:
            continue
        return [_records(text, delimiter)[0] for delimiter in DELIMITERS]
    return []


def _no_header(grid: list[list], names: FeedNames, header_names: HeaderNames) -> str:
    row = one_cell_header(grid, names)
    if row is not None:
        return f"第 {row + 1} 行像是表头，但各列之间不是用逗号、制表符或分号分隔的，无法分列；{SAVE_AS_CSV}"
    return not_found("文件", grid, names, header_names)


@dataclass
class _Layout:
    """Where the rows are: after ``skip`` lines, ``width`` columns; the first is row header.bottom + 2."""

    path: Path
    encoding: Encoding
    delimiter: str
    header: Header
    skip: int
    width: int

    def _stream(self, handler) -> pacsv.CSVStreamingReader:
        names = [f"c{j}" for j in range(self.width)]
        used = [f"c{j}" for j in sorted(self.header.columns.values())]
        source = self.encoding.utf8
        if source is not None:
            source.seek(0)
        return pacsv.open_csv(
            self.path if source is None else source,
            read_options=pacsv.ReadOptions(
                skip_rows=self.skip,  # a UTF-8 BOM sits in these lines
                column_names=names,
                use_threads=False,  # row numbers of malformed rows are known only then
                block_size=BLOCK_BYTES,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,  # a blank line is a row in Excel too: keeps row numbers right
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(used, pa.string()),
                include_columns=used,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )

    def _chunks(self, handler):
        first_row = self.header.bottom + 2
        try:
            stream = self._stream(handler)
        except pa.ArrowInvalid as error:
            if "Empty CSV" in str(error):
                return
            raise
        for batch in stream:
            cells = {c: Cells(batch.column(f"c{j}")) for c, j in self.header.columns.items()}
            yield Chunk(first_row, cells, batch.num_rows)
            first_row += batch.num_rows

    def open(self, names: FeedNames, notes: list[str]) -> FeedFile:
        feed, header = names.feed, self.header
        malformed: list[tuple[int, int]] = []

        def note_malformed(row) -> str:
            number = None if row.number is None else row.number - self.skip + header.bottom + 1
            malformed.append((number, row.actual_columns))
            return "skip"

        tally = Tally()
        try:
            for chunk in self._chunks(note_malformed):
                scan_chunk(feed, chunk, tally)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return self._refused(feed, f"无法按 CSV 读取（引号不成对或内容已损坏）；{SAVE_AS_CSV}", notes)
        if tally.empty:
            notes = [*notes, f"跳过 {tally.empty} 个空行"]
        if tally.rows == 0:
            notes = [*notes, "只有表头，没有数据行"]
        result = FeedFile(
            self.path,
            feed,
            "csv",
            num_rows=tally.rows,
            mapping={c: header.sources[c] for c in feed.column_names if c in header.columns},
            absent=[c.name for c in feed.columns if c.name not in header.columns],
            unused=header.unused,
            header_rows=(header.top + 1, header.bottom + 1),
            encoding=self.encoding.label,
            delimiter=self.delimiter,
            notes=notes,
            text_columns=feed.column_names,
            _batches=lambda: self._batches(feed),
        )
        if malformed:
            result.refusal = Refusal(self._malformed(malformed))
        elif tally.ids and tally.lost_ids == tally.ids:
            result.refusal = Refusal(ID_NUMBERS_LOST)
        return result

    def _refused(self, feed, reason: str, notes: list[str]) -> FeedFile:
        return refused(self.path, feed, "csv", reason, encoding=self.encoding.label, notes=notes)

    def _malformed(self, malformed: list[tuple[int | None, int]]) -> str:
        shown = "、".join(
            f"第 {number} 行有 {count} 列" if number is not None else f"有一行有 {count} 列"
            for number, count in malformed[:5]
        )
        more = f"等 {len(malformed)} 行" if len(malformed) > 5 else ""
        return (
            f"有的行列数与表头不同：表头有 {self.width} 列，{shown}{more}"
            f"（可能是单元格里有未加引号的逗号）；{SAVE_AS_CSV}"
        )

    def _batches(self, feed):
        def refuse_now(row) -> str:  # the first pass found none: the file changed since it was opened
            return "error"

        tally = Tally()
        for chunk in self._chunks(refuse_now):
            batch = read_chunk(feed, chunk, tally)
            if batch is not None:
                yield batch
