"""What one inbox file may cost: checked before its data is read, refused with a Chinese reason beyond.

A Parquet file states its own shape in the footer at its end (``<footer><4-byte length>PAR1``): the
schema (one element per column), the row count and each row group's rows and size. The size and the
footer's length are checked from the last 8 bytes, the column count from the footer's first bytes, all
before the footer is parsed (a footer of 100,000 columns alone takes most of a second to parse); then the
parsed footer's rows and row groups, before any data page is read. The limits are far above what the
contract's feeds produce (about 20 columns; a residents snapshot of 10 million rows is under 2 GB).

Excel and CSV files (``before_reading_table``): the size, and for a workbook (.xlsx, a zip archive) its
table of contents — how much its parts declare unpacked and how many rows each worksheet declares
(``<dimension ref="A1:M100002"/>``, in the sheet's first bytes) — before the reader opens it: the Excel
reader holds a whole sheet in memory (about 1.3 GB for a million rows, docs/benchmarks.md), a CSV streams.
After the reader counted the rows (nothing written yet), ``rows_counted`` says whether there are too many.
"""

from __future__ import annotations

import os
import re
import zipfile

import pyarrow.parquet as pq

GiB = 2**30
MiB = 2**20

MAX_FILE_BYTES = 2 * GiB  # one file; a larger export is split by date or community
MAX_COLUMNS = 200  # the widest feed has 13 columns
MAX_ROWS = 20_000_000  # rows one file declares
MAX_FOOTER_BYTES = 16 * MiB  # the footer's own length (a normal file's is kilobytes)
MAX_ROW_GROUPS = 10_000
MAX_ROW_GROUP_BYTES = 4 * GiB  # uncompressed bytes one row group declares (read at once)

MAX_EXCEL_BYTES = 256 * MiB  # a workbook (.xlsx or .xls) as sent
MAX_EXCEL_UNPACKED = 1 * GiB  # what an .xlsx's parts declare unpacked (the 100k-row sheet: ~50 MB)
MAX_EXCEL_ROWS = 1_048_576  # rows one worksheet may have (Excel's own limit)
MAX_EXCEL_PARTS = 10_000  # parts in an .xlsx archive (a workbook has a few dozen)

_MAGIC = b"PAR1"
_THRIFT_I32, _THRIFT_LIST = 5, 9
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*\d*:?[A-Z]*(\d+)\"")


def _too_big(size: int) -> str:
    return (
        f"文件过大（{size / GiB:.1f} GB），超过单个文件 {MAX_FILE_BYTES / GiB:g} GB 的上限；"
        "请按日期或社区拆分成几个文件后重新放入收件箱。"
    )


def before_parsing(handle) -> str | None:
    """Why the file is refused from its size and its footer's first bytes alone, or None."""
    size = os.fstat(handle.fileno()).st_size
    if size > MAX_FILE_BYTES:
        return _too_big(size)
    if size < 12:
        return None  # not Parquet at all: the reader says so
    handle.seek(size - 8)
    tail = handle.read(8)
    if tail[4:] != _MAGIC:
        return None
    footer = int.from_bytes(tail[:4], "little")
    if footer > MAX_FOOTER_BYTES:
        return (
            f"文件的元数据部分异常庞大（{footer / MiB:.0f} MB，正常只有几 KB），不像正常的导出文件；"
            "请检查导出程序。"
        )
    if footer > size - 8:
        return None  # truncated: the reader says so
    handle.seek(size - 8 - footer)
    columns = declared_columns(handle.read(min(footer, 64)))
    if columns is not None and columns > MAX_COLUMNS:
        return _too_many_columns(columns)
    return None


def declared_columns(head: bytes) -> int | None:
    """The column count a footer declares, from its first bytes (Thrift compact protocol: field 1 the
    version, field 2 the schema list, whose header holds its length: the root element plus one per
    column). None when the bytes are not laid out so; the parsed footer is checked then."""
    try:
        pos = 0
        if head[pos] != (1 << 4) | _THRIFT_I32:
            return None
        pos += 1
        while head[pos] & 0x80:  # the version's varint
            pos += 1
        pos += 1
        if head[pos] != (1 << 4) | _THRIFT_LIST:
            return None
        pos += 1
        size = head[pos] >> 4
        if size == 15:  # the size follows as a varint
            size, shift = 0, 0
            while True:
                pos += 1
                size |= (head[pos] & 0x7F) << shift
                shift += 7
                if not head[pos] & 0x80:
                    break
        return size - 1
    except IndexError:
        return None


def after_parsing(metadata: pq.FileMetaData) -> str | None:
    """Why the file is refused from its parsed footer (rows, row groups), before any data is read."""
    if metadata.num_columns > MAX_COLUMNS:
        return _too_many_columns(metadata.num_columns)
    if metadata.num_rows > MAX_ROWS:
        return (
            f"行数过多（文件声明 {metadata.num_rows:,} 行，上限 {MAX_ROWS:,} 行）；"
            "请拆分成几个文件后重新放入收件箱。"
        )
    if metadata.num_row_groups > MAX_ROW_GROUPS:
        groups = metadata.num_row_groups
        return f"文件分块（行组）过多（{groups:,} 个，上限 {MAX_ROW_GROUPS:,} 个）；请检查导出程序。"
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        if not 0 <= group.num_rows <= MAX_ROWS or not 0 <= group.total_byte_size <= MAX_ROW_GROUP_BYTES:
            return (
                f"文件第 {index + 1} 个分块（行组）声明的大小不合常理（{group.num_rows:,} 行，"
                f"{group.total_byte_size:,} 字节），不像正常的导出文件；请检查导出程序。"
            )
    return None


def _too_many_columns(columns: int) -> str:
    return f"列数过多（{columns:,} 列，上限 {MAX_COLUMNS} 列）；请只导出约定的列后重新放入收件箱。"


# ---- Excel and CSV -------------------------------------------------------------------------------------


def before_reading_table(handle) -> str | None:
    """Why an Excel or CSV file is refused from its size and (a workbook) its table of contents alone."""
    size = os.fstat(handle.fileno()).st_size
    if size > MAX_FILE_BYTES:
        return _too_big(size)
    handle.seek(0)
    head = handle.read(8)
    if not head.startswith((_ZIP, _OLE)):
        return None  # text: streamed, its rows counted by the reader (rows_counted)
    if size > MAX_EXCEL_BYTES:
        return (
            f"Excel 工作簿过大（{size / MiB:.0f} MB，上限 {MAX_EXCEL_BYTES / MiB:.0f} MB）；"
            "请拆分成几个工作簿，或另存为 CSV 后重新放入收件箱。"
        )
    return _workbook_contents(handle) if head.startswith(_ZIP) else None


def _workbook_contents(handle) -> str | None:
    """An .xlsx's parts and the rows its worksheets declare, from the zip directory and each sheet's first
    bytes (None when it is no readable zip: the reader says so)."""
    try:
        handle.seek(0)
        archive = zipfile.ZipFile(handle)
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return None
    if len(parts) > MAX_EXCEL_PARTS:
        return (
            f"工作簿的内部结构异常（{len(parts):,} 个部件），不像正常的 Excel 文件；"
            "请在 Excel 中另存后再放入。"
        )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_EXCEL_UNPACKED:
        return (
            f"Excel 工作簿解压后过大（{unpacked / GiB:.1f} GB，上限 {MAX_EXCEL_UNPACKED / GiB:g} GB）；"
            "请拆分成几个工作簿，或另存为 CSV 后重新放入收件箱。"
        )
    for part in parts:
        if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
            rows = declared_rows(archive, part)
            if rows is not None and rows > MAX_EXCEL_ROWS:
                return _too_many_sheet_rows(rows)
    return None


def declared_rows(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> int | None:
    """The last row a worksheet declares in its ``<dimension>`` (in its first bytes), or None."""
    try:
        with archive.open(part) as sheet:
            head = sheet.read(4096)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None
    found = _DIMENSION.search(head)
    return int(found.group(1)) if found else None


def rows_counted(fmt: str | None, rows: int) -> str | None:
    """Why a file the reader opened is refused for its row count (counted before anything is written)."""
    if fmt in ("xlsx", "xls") and rows > MAX_EXCEL_ROWS:
        return _too_many_sheet_rows(rows)
    if rows > MAX_ROWS:
        return f"行数过多（{rows:,} 行，上限 {MAX_ROWS:,} 行）；请拆分成几个文件后重新放入收件箱。"
    return None


def _too_many_sheet_rows(rows: int) -> str:
    return (
        f"工作表行数过多（{rows:,} 行，上限 {MAX_EXCEL_ROWS:,} 行）；"
        "请拆分成几个工作簿，或另存为 CSV 后重新放入收件箱。"
    )
