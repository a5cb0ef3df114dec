"""Finding the header in the first rows of a sheet: title rows above it, a header over two rows (merged
cells), columns in any order with extra ones. And, when it is not there, saying so without a personal value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wangtai.contract import FEEDS
from wangtai.ingest.readers.headers import FeedNames, HeaderNames, header_key

SCAN_ROWS = 30  # rows looked at for the header
MIN_MATCHED = 2  # a row naming fewer of the feed's columns is not its header


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as Excel names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _is_empty(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


@dataclass
class Header:
    """Where a feed's header is in a grid (0-based rows and columns) and what each column is."""

    top: int  # first header row (0-based in the grid)
    bottom: int  # last header row: data begin on the next row
    columns: dict[str, int]  # contract column → grid column
    sources: dict[str, str]  # contract column → the header as written
    unused: list[str] = field(default_factory=list)  # other named columns, as written
    repeated: dict[str, list[int]] = field(default_factory=dict)  # contract column → several grid columns

    @property
    def score(self) -> int:
        return len(self.columns) + len(self.repeated)

    def missing(self, names: FeedNames, required_only: bool) -> list[str]:
        return [
            c.name
            for c in names.feed.columns
            if c.name not in self.columns
            and c.name not in self.repeated
            and not (required_only and c.nullable)
        ]

    def complete(self, names: FeedNames) -> bool:
        return not self.missing(names, required_only=True) and not self.repeated


def _band(grid: list[list], top: int, bottom: int, names: FeedNames) -> Header:
    """The header read from rows top..bottom: each column's name is its cell in the bottom row, or the
    nearest non-empty cell above it (a merged cell keeps its value in its first cell only)."""
    width = max(len(grid[r]) for r in range(top, bottom + 1))
    found: dict[str, list[int]] = {}
    sources: dict[str, str] = {}
    unused: list[str] = []
    for j in range(width):
        cell = None
        for r in range(bottom, top - 1, -1):
            value = grid[r][j] if j < len(grid[r]) else None
            if not _is_empty(value):
                cell = value
                break
        if cell is None:
            continue
        column = names.column_for(cell)
        if column is None:
            unused.append(_shown(cell))
            continue
        found.setdefault(column, []).append(j)
        sources.setdefault(column, _shown(cell))
    return Header(
        top,
        bottom,
        {c: js[0] for c, js in found.items() if len(js) == 1},
        sources,
        unused,
        {c: js for c, js in found.items() if len(js) > 1},
    )


def _shown(cell: object) -> str:
    """A header cell as shown in messages: one line, trimmed."""
    return re.sub(r"\s+", " ", str(cell)).strip()


def find_header(grid: list[list], names: FeedNames) -> Header | None:
    """The best header of the feed in the grid's rows (one row, or two when that names more columns), or
    None when no row names at least MIN_MATCHED of its columns."""
    best: Header | None = None
    rows = grid[:SCAN_ROWS]
    for bottom in range(len(rows)):
        for top in (bottom, bottom - 1):
            if top < 0:
                continue
            header = _band(rows, top, bottom, names)
            if best is None or header.score > best.score:
                best = header
    if best is None or best.score < MIN_MATCHED:
        return None
    return best


def recognise(grid: list[list], header_names: HeaderNames) -> list[str]:
    """The feeds whose complete header is in the grid."""
    found = []
    for name in FEEDS:
        header = find_header(grid, header_names[name])
        if header is not None and header.complete(header_names[name]):
            found.append(name)
    return found


_VALUE_LIKE = re.compile(r"\d{3,}|@")


def looked_like(grid: list[list], header_names: HeaderNames, rows: int = 8) -> str:
    """What the first rows looked like, for a reason: how many cells each row has; the cells of a row that
    names at least two known columns (a header row: no personal value); nothing else."""
    shown = []
    for r, row in enumerate(grid[:rows]):
        filled = [c for c in row if not _is_empty(c)]
        known = {
            header_names[f].column_for(c) for f in FEEDS for c in filled if header_names[f].column_for(c)
        }
        if len(known) >= 2:
            cells = [_shown(c)[:20] for c in filled[:20] if not _VALUE_LIKE.search(_shown(c))]
            shown.append(f"第 {r + 1} 行的列名：{'、'.join(cells)}")
        else:
            shown.append(f"第 {r + 1} 行 {len(filled)} 个非空单元格")
    return "；".join(shown) if shown else "没有任何内容"


def expected(names: FeedNames) -> str:
    """The columns a feed expects, each with its accepted names, for a reason."""
    parts = []
    for column in names.feed.columns:
        accepted = "/".join(n for n in names.names[column.name] if n != column.name)
        optional = "，可空" if column.nullable else ""
        parts.append(f"{accepted}（{column.name}{optional}）")
    return "、".join(parts)


def one_cell_header(grid: list[list], names: FeedNames) -> int | None:
    """A row whose single filled cell contains several of the feed's names: a CSV read with the wrong
    delimiter (its 0-based row), else None."""
    keys = sorted({header_key(n) for ns in names.names.values() for n in ns if not n.isascii()}, key=len)
    for r, row in enumerate(grid[:SCAN_ROWS]):
        filled = [c for c in row if not _is_empty(c)]
        if len(filled) == 1 and isinstance(filled[0], str):
            text = header_key(filled[0])
            if sum(1 for k in keys if k in text) >= 3:
                return r
    return None


def not_found(where: str, grid: list[list], names: FeedNames, header_names: HeaderNames) -> str:
    """Why no header was found: what was expected, what the first rows looked like (no data values)."""
    feed = names.feed
    text = (
        f"{where}没有找到{feed.label}的表头"
        f"（前 {SCAN_ROWS} 行中没有一行含有至少 {MIN_MATCHED} 个可识别的列名）。"
        f"应有的列：{expected(names)}。{where}开头是：{looked_like(grid, header_names)}。"
    )
    return text + misplaced(grid, names, header_names)


def misplaced(grid: list[list], names: FeedNames, header_names: HeaderNames) -> str:
    """A hint when the header is another feed's (the file is in the wrong inbox folder), else ''."""
    others = [f for f in recognise(grid, header_names) if f != names.feed.name]
    if not others:
        return ""
    labels = "、".join(f"「{FEEDS[f].label}」（inbox/{f}/）" for f in others)
    return f"这些列名像是{labels}的文件，是否放错了文件夹？"


def incomplete(where: str, header: Header, names: FeedNames) -> str:
    """Why a header that was found cannot be used: required columns missing, or a column given twice."""
    feed = names.feed
    rows = (
        f"第 {header.top + 1} 行"
        if header.top == header.bottom
        else f"第 {header.top + 1}–{header.bottom + 1} 行"
    )
    parts = []
    missing = header.missing(names, required_only=True)
    if missing:
        wanted = "、".join(f"{'/'.join(n for n in names.names[c] if n != c)}（{c}）" for c in missing)
        parts.append(f"缺少必填列：{wanted}")
    for column, js in header.repeated.items():
        letters = "、".join(column_letter(j) for j in js)
        parts.append(f"第 {letters} 列都对应 {column}，请删去或改名其中一列")
    found = "、".join(f"{source}→{column}" for column, source in header.sources.items()) or "无"
    unused = "、".join(header.unused[:20]) or "无"
    return (
        f"{where}的{feed.label}表头（{rows}）不能使用：{'；'.join(parts)}。已识别的列：{found}；未识别的列名："
        f"{unused}。列名须与上面的名称之一一致（管理员可在 reference/column_names.toml 中增加别名）。"
    )
