"""Personal information at ingest (DATA_CONTRACT.md §5): id-number parsing, HMAC pseudonyms, masks.

Everything here is vectorized over pyarrow / numpy arrays except the HMAC itself, which runs once per
distinct id number.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.idnumber import CHECK_CHARS, WEIGHTS
from wangtai.paths import secret_file

# Two-character (复姓) surnames: the masked name keeps both characters ("欧阳**").
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
        "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "澹台", "公冶", "宗政", "濮阳", "淳于",
        "单于", "太叔", "申屠", "仲孙", "钟离", "闻人", "赫连", "呼延", "羊舌", "万俟", "司空", "亓官",
        "司寇", "子车", "颛孙", "壤驷", "公良", "漆雕", "乐正", "宰父", "谷梁", "拓跋", "夹谷", "段干",
        "百里", "东郭", "南门", "梁丘", "左丘", "东门", "公西", "第五", "公羊", "微生", "闾丘", "鲜于",
    )
)  # fmt: skip

_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)
_POW10_17 = (10 ** np.arange(16, -1, -1, dtype=np.int64)).astype(np.int64)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
MIN_BIRTH_YEAR = 1900


def load_secret(path: Path | None = None) -> bytes:
    """The pseudonymization key; created (32 random bytes, mode 0600) on first use."""
    path = Path(path) if path is not None else secret_file()
    if path.exists():
        key = path.read_bytes()
        if len(key) < 16:
            raise RuntimeError(f"假名化密钥文件 {path} 内容过短（应为 32 字节随机数），请检查。")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it just now
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    os.chmod(path, 0o600)
    return path.read_bytes()


def person_keys(ids: pa.Array, secret: bytes) -> pa.Array:
    """hex HMAC-SHA256(secret, id_number), hashing each distinct id once. Nulls stay null."""
    uniq = pc.unique(ids).drop_null()
    digests = [hmac.digest(secret, s.encode(), "sha256").hex() for s in uniq.to_pylist()]
    return pa.array(digests, pa.string()).take(pc.index_in(ids, value_set=uniq))


@dataclass
class ParsedIds:
    """Validity masks and derived fields of an array of id numbers (already upper-cased)."""

    shape_ok: np.ndarray  # 18 characters, 17 digits then a digit or X
    date_ok: np.ndarray  # birth date exists and is not in the future
    check_ok: np.ndarray  # GB 11643 check character matches
    birth_date: np.ndarray  # datetime64[D], for the checks only (never stored); meaningless where not valid
    male: np.ndarray  # 17th digit odd
    key_int: np.ndarray  # the first 17 digits as int64 (identifies a valid id exactly)

    @property
    def valid(self) -> np.ndarray:
        return self.shape_ok & self.date_ok & self.check_ok

    @property
    def birth_year(self) -> np.ndarray:
        """The year of birth (int32): what the warehouse keeps. The month and day are exactly the digits the
        display mask hides, so they are never stored (DATA_CONTRACT.md §5)."""
        return self.birth_date.astype("datetime64[Y]").astype(np.int32) + 1970


def parse_ids(ids: pa.Array, today: date) -> ParsedIds:
    n = len(ids)
    shape_ok = pc.fill_null(pc.match_substring_regex(ids, r"^\d{17}[\dX]$"), False)
    shape_np = shape_ok.to_numpy(zero_copy_only=False).astype(bool)
    sub = pa.concat_arrays([ids.filter(shape_ok).cast(pa.string())]) if n else pa.array([], pa.string())
    m = len(sub)
    if m:
        offsets = np.frombuffer(sub.buffers()[1], dtype=np.int32, count=m + 1, offset=sub.offset * 4)
        data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(m, 18)
    else:
        data = np.zeros((0, 18), dtype=np.uint8)
    digits = data[:, :17].astype(np.int64) - 48
    check = _CHECK_BYTES[(digits @ WEIGHTS) % 11] == data[:, 17]
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10:12] @ np.array([10, 1])
    day = digits[:, 12:14] @ np.array([10, 1])
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    dim = _DAYS_IN_MONTH[np.where(month_ok, month, 1)] + ((month == 2) & leap)
    day_ok = month_ok & (day >= 1) & (day <= dim)
    safe_m = np.where(day_ok, month, 1)
    safe_d = np.where(day_ok, day, 1)
    safe_y = np.clip(year, 1000, 9999)
    born = (
        (safe_y - 1970).astype("datetime64[Y]").astype("datetime64[M]")
        + (safe_m - 1).astype("timedelta64[M]")
    ).astype("datetime64[D]") + (safe_d - 1).astype("timedelta64[D]")
    date_sub = day_ok & (year >= MIN_BIRTH_YEAR) & (born <= np.datetime64(today, "D"))

    def spread(values: np.ndarray, fill) -> np.ndarray:
        out = np.full(n, fill, dtype=values.dtype)
        out[shape_np] = values
        return out

    return ParsedIds(
        shape_ok=shape_np,
        date_ok=spread(date_sub, False),
        check_ok=spread(check, False),
        birth_date=spread(born, np.datetime64("1970-01-01", "D")),
        male=spread(digits[:, 16] % 2 == 1, False),
        key_int=spread(digits @ _POW10_17, 0),
    )


ADULT_AGE = 18


def minors(birth_year: np.ndarray, ingest_year: int | np.ndarray) -> np.ndarray:
    """Under 18 in the year of ingest (by birth year): birth_year > ingest_year − 18."""
    return np.asarray(birth_year) > np.asarray(ingest_year) - ADULT_AGE


def mask_ids(ids: pa.Array, minor: np.ndarray) -> pa.Array:
    """370211********123X; for a minor 370211************ (the sequence digits and the check character hidden
    too). A stored event in the birth year (a 一家亲 scan, the ingest of the first snapshot holding a baby)
    bounds the birth date, and the last four characters would then complete it (DATA_CONTRACT.md §5): such an
    event is only stored while the person is a minor. Also shortens a stored full mask (the first 6 and the
    last 4 characters are in the same places)."""
    full = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(ids, 0, 6), "*" * 8, pc.utf8_slice_codeunits(ids, 14, 18), ""
    )
    short = pc.binary_join_element_wise(pc.utf8_slice_codeunits(ids, 0, 6), "*" * 12, "")
    return pc.if_else(pa.array(np.asarray(minor, dtype=bool)), short, full)


_COMPOUND = pa.array(sorted(COMPOUND_SURNAMES), pa.string())
_STARS = pa.array(["*" * k for k in range(64)], pa.string())


def mask_names(names: pa.Array) -> pa.Array:
    """张三 → 张*, 欧阳娜娜 → 欧阳**: the surname is kept, every other character becomes *."""
    names = names.cast(pa.string())
    length = pc.fill_null(pc.utf8_length(names), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    compound = pc.fill_null(
        pc.is_in(pc.utf8_slice_codeunits(names, 0, 2), value_set=_COMPOUND), False
    ).to_numpy(zero_copy_only=False) & (length >= 3)
    surname = pc.if_else(
        pa.array(compound), pc.utf8_slice_codeunits(names, 0, 2), pc.utf8_slice_codeunits(names, 0, 1)
    )
    stars = np.clip(length - np.where(compound, 2, 1), 1, len(_STARS) - 1)
    masked = pc.binary_join_element_wise(surname, _STARS.take(pa.array(stars)), "")
    return pc.if_else(pc.is_null(names), pa.scalar(None, pa.string()), masked)


def mask_phones(phones: pa.Array) -> pa.Array:
    """13812345678 → 138****5678; other lengths keep first 3 and last 4 (under 8 chars: ****)."""
    phones = phones.cast(pa.string())
    masked = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(phones, 0, 3), "****", pc.utf8_slice_codeunits(phones, -4), ""
    )
    short = pc.less(pc.utf8_length(phones), 8)
    return pc.if_else(short, pa.scalar("****", pa.string()), masked)
