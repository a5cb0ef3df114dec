"""Cells as they arrive from Excel or CSV → the contract's types, with the damage Excel does undone where the
meaning is certain and reported where it is not.

A column arrives as ``Cells``: its text cells (a pyarrow string array; vectorized, which is all of a CSV)
and its other cells (Excel numbers, dates, booleans: Python values by row). ``convert`` returns the typed
column, the cells as text (what arrived, for quarantine) and row problems as (mask, reason) pairs, as in
``wangtai.ingest.validate.check_rows``. A cell with a problem is null in the typed column.

Never silently changing a meaning: separators, a ``+86`` prefix and full-width digits are dropped because
the number stays the same; a value that is still wrong afterwards (a 10-digit phone) is left for the row
checks; a value whose digits Excel lost is refused, not repaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.contract import Column
from wangtai.idnumber import check_char

CODE_COLUMNS = frozenset(("community_code", "unit_id", "house_id", "scan_id", "record_id"))
EXACT_FLOAT = 2**53  # integers beyond this are not exact in a double: Excel has lost digits

_FULLWIDTH = "[\uff01-\uff5e\u3000]"
_HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SCIENTIFIC = r"^\d(\.\d+)?[eE]\+?\d+$"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_INTEGER = r"^[+-]?\d{1,18}(\.0*)?$"
_DATETIME = (
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s*T\s*|\s+)(?P<H>\d{1,2})\s*[:时]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<S>\d{1,2})(?:\.(?P<f>\d{1,6}))?\s*秒?)?\s*分?)?$"
)
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 = 1900-01-01 (after Excel's 1900 leap-year slip)
SERIAL_RANGE = (18264, 73415)  # 1950-01-01 … 2100-12-31: a plain number outside is not read as a date
_DAY_US = 86_400_000_000


def _np(mask) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False).astype(bool)


@dataclass
class Cells:
    """One column of a batch as it arrived."""

    strings: pa.Array  # text cells (null: empty, or not a text cell)
    others: dict[int, object] = field(default_factory=dict)  # row → an Excel number, date, time or boolean

    @classmethod
    def from_python(cls, values: list) -> Cells:
        """Cells as the Excel reader gives them: str ('' for empty), float, int, bool, date, datetime…"""
        strings = [v if type(v) is str else None for v in values]
        others = {i: v for i, v in enumerate(values) if type(v) is not str and v is not None}
        return cls(pa.array(strings, pa.string()), others)

    def __len__(self) -> int:
        return len(self.strings)

    @cached_property
    def trimmed(self) -> pa.Array:
        """The text cells without surrounding whitespace; null when nothing is left."""
        return _trimmed(self.strings)

    def text(self) -> pa.Array:
        """Every cell as text, as it arrived (null when empty)."""
        text = pc.if_else(pc.is_valid(self.trimmed), self.strings, pa.scalar(None, pa.string()))
        return _put(text, {i: display(v) for i, v in self.others.items()})

    @cached_property
    def blank(self) -> np.ndarray:
        """Which rows have nothing in this column."""
        blank = ~_np(pc.is_valid(self.trimmed))
        if self.others:
            blank[list(self.others)] = False
        return blank

    def empty(self) -> np.ndarray:
        return self.blank


def display(value: object) -> str:
    """A non-text cell as text: whole numbers without ``.0``, dates in ISO form."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _put(array: pa.Array, values: dict[int, object]) -> pa.Array:
    """array with the given rows replaced (rows that are null in it)."""
    if not values:
        return array
    rows = sorted(values)
    return _put_rows(array, np.array(rows, dtype=np.int64), pa.array([values[r] for r in rows], array.type))


def _put_rows(array: pa.Array, rows: np.ndarray, replacement: pa.Array) -> pa.Array:
    """array with rows (ascending) replaced by replacement's values, in order."""
    if not len(rows):
        return array
    mask = np.zeros(len(array), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(array, pa.array(mask), replacement.cast(array.type))


def _all_of(others: dict[int, object], kind: type) -> bool:
    """Every non-text cell is exactly of this type (the usual Excel column: fast paths below)."""
    return bool(others) and all(type(v) is kind for v in others.values())


def _rows(others: dict[int, object]) -> np.ndarray:
    return np.fromiter(others.keys(), dtype=np.int64, count=len(others))


def _halfwidth(s: pa.Array) -> pa.Array:
    """Full-width letters, digits and signs (０-９, Ｘ, －) → ASCII; only the cells that have them."""
    if pc.all(pc.string_is_ascii(s)).as_py() is not False:
        return s  # the usual case: nothing to do, found cheaply
    has = _np(pc.match_substring_regex(s, _FULLWIDTH))
    if not has.any():
        return s
    rows = np.flatnonzero(has)
    fixed = [v.translate(_HALFWIDTH) for v in s.take(pa.array(rows)).to_pylist()]
    return pc.replace_with_mask(s, pa.array(has), pa.array(fixed, pa.string()))


def _trimmed(s: pa.Array) -> pa.Array:
    s = pc.utf8_trim_whitespace(s)
    return pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)


def _code_text(s: pa.Array) -> pa.Array:
    """A code typed as text (already trimmed): full-width → ASCII, Excel's text guards ``="…"`` and a
    leading ``'`` removed."""
    s = _halfwidth(s)
    guarded = pc.or_(pc.starts_with(s, "="), pc.starts_with(s, "'"))
    if not pc.any(guarded).as_py():
        return s
    s = pc.replace_substring_regex(s, r'^="(.*)"$', r"\1")
    s = pc.replace_substring_regex(s, r"^'", "")
    return _trimmed(s)


@dataclass
class Converted:
    values: pa.Array  # the contract's type; null where empty or where a problem was found
    problems: list[tuple[np.ndarray, str]]


def convert(cells: Cells, column: Column, label: str) -> Converted:
    """One column to its contract type (see the module's docstring)."""
    what = f"{column.name}（{label}）"
    if column.name == "id_number":
        return _id_numbers(cells, what)
    if column.name == "phone":
        return _phones(cells, what)
    if column.type == "string":
        return _codes(cells, what) if column.name in CODE_COLUMNS else _texts(cells)
    if column.type == "double":
        return _numbers(cells, what, integer=False)
    if column.type == "int64":
        return _numbers(cells, what, integer=True)
    return _times(cells, what, dates_only=column.type == "date32")


def _lost_digits(what: str) -> str:
    return f"{what}被 Excel 转成了数字（科学计数法），后几位已丢失，请把该列设为文本后重新导出"


def _texts(cells: Cells) -> Converted:
    return Converted(_put(cells.trimmed, {i: display(v) for i, v in cells.others.items()}), [])


def _codes(cells: Cells, what: str, strings: pa.Array | None = None) -> Converted:
    """A code: text as written; an Excel number as its digits, refused when too long to be exact."""
    s = _code_text(cells.trimmed) if strings is None else strings
    lost = _np(pc.match_substring_regex(s, _SCIENTIFIC))
    numbers: dict[int, str] = {}
    for i, v in cells.others.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if abs(v) >= EXACT_FLOAT or (isinstance(v, float) and not np.isfinite(v)):
                lost[i] = True
                continue
            numbers[i] = str(int(v)) if float(v).is_integer() else repr(v)
        else:
            numbers[i] = display(v)
    values = _put(s, numbers)
    problems = [(lost, _lost_digits(what))] if lost.any() else []
    return Converted(_null_where(values, lost), problems)


def _null_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def _id_numbers(cells: Cells, what: str) -> Converted:
    """Id numbers: spaces inside removed; an Excel number, scientific notation or trailing zeros where the
    check character fails (Excel keeps 15 digits) are refused: the digits are gone."""
    s = _code_text(cells.trimmed)
    if pc.any(pc.match_substring(s, " ")).as_py() or pc.any(pc.invert(pc.string_is_ascii(s))).as_py():
        s = pc.replace_substring_regex(s, r"\s+", "")
    numeric = np.zeros(len(cells), dtype=bool)
    numeric[list(cells.others)] = True
    lost = _np(pc.match_substring_regex(s, _SCIENTIFIC)) | numeric
    zeros = _np(pc.match_substring_regex(s, r"^\d{15}000$"))
    for i in np.flatnonzero(zeros):
        value = s[int(i)].as_py()
        zeros[i] = check_char(value[:17]) != value[17]
    values = _null_where(s, lost | zeros)
    problems = []
    if lost.any():
        problems.append((lost, _lost_digits(what)))
    if zeros.any():
        problems.append(
            (zeros, f"{what}末尾几位变成了 0（疑似被 Excel 转成数字后丢失），请把该列设为文本后重新导出")
        )
    return Converted(values, problems)


def _phones(cells: Cells, what: str) -> Converted:
    """Phones: spaces, dashes, brackets and a +86 / 0086 / 86 prefix before an 11-digit mobile dropped."""
    s = pc.replace_substring_regex(_code_text(cells.trimmed), r"[\s\-—–()]+", "")
    s = pc.replace_substring_regex(s, r"^(?:\+|00)?86(1\d{10})$", r"\1")
    return _codes(cells, what, strings=_trimmed(s))


def _numbers(cells: Cells, what: str, integer: bool) -> Converted:
    s = _halfwidth(cells.trimmed)
    if not integer:
        s = pc.replace_substring_regex(s, r"\s*°$", "")
    pattern = _INTEGER if integer else _NUMBER
    ok = _np(pc.match_substring_regex(s, pattern))
    bad = _np(pc.is_valid(s)) & ~ok
    s = pc.if_else(pa.array(ok), s, pa.scalar(None, pa.string()))
    if integer:
        s = pc.replace_substring_regex(pc.replace_substring_regex(s, r"\.0*$", ""), r"^\+", "")
    target = pa.int64() if integer else pa.float64()
    values = pc.cast(s, target)
    others = cells.others
    if _all_of(others, float):  # a column of Excel numbers
        rows, numbers = _rows(others), np.fromiter(others.values(), dtype=np.float64, count=len(others))
        good = np.isfinite(numbers)
        if integer:
            good &= (np.floor(numbers) == numbers) & (np.abs(numbers) < EXACT_FLOAT)
        bad[rows[~good]] = True
        replacement = pa.array(numbers[good]).cast(target) if integer else pa.array(numbers[good])
        values = _put_rows(values, rows[good], replacement)
        others = {}
    found: dict[int, object] = {}
    for i, v in others.items():
        number = isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
        if number and integer and float(v).is_integer() and abs(v) < EXACT_FLOAT:
            found[i] = int(v)
        elif number and not integer:
            found[i] = float(v)
        else:
            bad[i] = True
    values = _put(values, found)
    reason = f"{what}不是{'整数' if integer else '数字'}"
    return Converted(values, [(bad, reason)] if bad.any() else [])


def _times(cells: Cells, what: str, dates_only: bool) -> Converted:
    """Dates and times: 2026-03-15, 2026/3/15, 2026.3.15, 2026年3月15日, with an optional 08:30[:00]; also
    20260315, an Excel date cell, and an Excel serial number (a date cell that lost its format)."""
    s = _halfwidth(cells.trimmed)
    us, ok = _parse_iso(s)
    if not ok[_np(pc.is_valid(s))].all():
        us, ok = _parse_vectorized(s)
    present = _np(pc.is_valid(s))
    leftover = {int(i): s[int(i)].as_py() for i in np.flatnonzero(present & ~ok)}
    others = cells.others
    for kind, arrow in ((datetime, pa.timestamp("us")), (date, pa.date32())):
        if _all_of(others, kind):  # a column of Excel dates: converted in one go
            rows = _rows(others)
            moments = pa.array(list(others.values()), arrow)
            if kind is date:
                moments = moments.cast(pa.timestamp("us"))
            us[rows], ok[rows] = moments.cast(pa.int64()).to_numpy(zero_copy_only=False), True
            others = {}
    found: dict[int, int] = {}
    bad = np.zeros(len(cells), dtype=bool)
    for i, value in [*leftover.items(), *others.items()]:
        moment = _loose_text(value) if isinstance(value, str) else _cell_time(value)
        if moment is None:
            bad[i] = True
        else:
            found[i] = _to_us(moment)
    for i, v in found.items():
        us[i], ok[i] = v, True
    if dates_only:
        values = pa.array(np.floor_divide(us, _DAY_US).astype(np.int32), pa.int32(), mask=~ok).cast(
            pa.date32()
        )
        reason = f"{what}不是可识别的日期（应写成 2026-03-15、2026/3/15 或 2026年3月15日）"
    else:
        values = pa.array(us, pa.timestamp("us"), mask=~ok)
        reason = f"{what}不是可识别的时间（应写成 2026-03-15 08:30:00 或 2026/3/15 8:30）"
    return Converted(values, [(bad, reason)] if bad.any() else [])


def _parse_iso(s: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The common case first: every cell in ISO form (2026-03-15[ 08:30[:00]]), which arrow casts exactly
    (an impossible date fails the cast); else nothing parsed here."""
    try:
        moments = pc.cast(s, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.zeros(len(s), dtype=np.int64), np.zeros(len(s), dtype=bool)
    ok = _np(pc.is_valid(moments))
    us = pc.fill_null(moments.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).copy()
    return us, ok


def _parse_vectorized(s: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since 1970 and a validity mask for the cells written as a date (and time)."""
    n = len(s)
    parts = pc.extract_regex(s, _DATETIME)
    matched = _np(pc.is_valid(parts))
    if not matched.any():
        return np.zeros(n, dtype=np.int64), matched

    def number(name: str, width: int | None = None) -> np.ndarray:
        text = pc.struct_field(parts, name)
        if width:
            text = pc.utf8_rpad(text, width=width, padding="0")
        text = pc.if_else(pc.equal(text, ""), "0", text)
        return pc.fill_null(pc.cast(text, pa.int64()), 0).to_numpy(zero_copy_only=False).copy()

    y, m, d = number("y"), number("m"), number("d")
    hh, mm, ss, frac = number("H"), number("M"), number("S"), number("f", 6)
    valid_month = (m >= 1) & (m <= 12)
    months = (y - 1970) * 12 + np.where(valid_month, m - 1, 0)
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    days_in_month = ((months + 1).astype("datetime64[M]").astype("datetime64[D]") - first).astype(np.int64)
    ok = matched & valid_month & (d >= 1) & (d <= days_in_month) & (hh < 24) & (mm < 60) & (ss < 60)
    days = first.astype(np.int64) + d - 1
    us = days * _DAY_US + ((hh * 60 + mm) * 60 + ss) * 1_000_000 + frac
    return np.where(ok, us, 0), ok


def _loose_text(text: str) -> datetime | None:
    """The text forms the vectorized pattern leaves: 20260315, and an Excel serial written out (46096)."""
    if re.fullmatch(r"\d{8}", text):
        return _yyyymmdd(int(text))
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _serial(float(text))
    return None


def _cell_time(value: object) -> datetime | None:
    """An Excel cell that is not text: a date or datetime cell, or a number that is a date."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            return _yyyymmdd(int(value))
        return _serial(float(value))
    return None  # a time of day without a date, a duration, a boolean


def _yyyymmdd(number: int) -> datetime | None:
    try:
        return datetime(number // 10000, number // 100 % 100, number % 100)
    except ValueError:
        return None


def _serial(serial: float) -> datetime | None:
    if not SERIAL_RANGE[0] <= serial <= SERIAL_RANGE[1]:
        return None
    return _EXCEL_EPOCH + timedelta(milliseconds=round(serial * 86_400_000))


def _to_us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
