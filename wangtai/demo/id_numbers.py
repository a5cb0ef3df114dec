"""Made-up id numbers (GB 11643): home region, birth date and a sequence unique within them."""

import numpy as np
import pyarrow as pa

from wangtai.demo import vocab
from wangtai.demo._write import digits, fixed_ascii
from wangtai.demo.arrays import EPOCH, group_rank
from wangtai.idnumber import CHECK_CHARS, check_chars


def id_keys(
    rng: np.random.Generator, newcomer: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> np.ndarray:
    """First 17 digits (region, birth date, sequence) of unique id numbers, as int64."""
    year, ymd = _birth_dates(birth)
    region = _home_regions(rng, newcomer, year)
    # Sequence numbers unique within (region, birth date, sex): the k-th person of a group gets a slot
    # (offset + 137 k) mod 500 — distinct for k < 500, and scattered so that they look random.
    group = region * 1_000_000_000 + ymd * 10 + male
    k = group_rank(group)
    if k.max(initial=0) >= 500:
        raise ValueError("too many people born on one day in one region for unique id numbers")
    offset = (group % 999_983) * 7_919 % 500
    seq = ((offset + 137 * k) % 500) * 2 + male
    return region * 100_000_000_000 + ymd * 1_000 + seq


def _birth_dates(birth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Year and YYYYMMDD of birth dates given in days since 1970."""
    dates = EPOCH + birth.astype("timedelta64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (dates.astype("datetime64[M]") - dates.astype("datetime64[Y]")).astype(np.int64) + 1
    day = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    return year, year * 10_000 + month * 100 + day


def _home_regions(rng: np.random.Generator, newcomer: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Region part of the id: newcomers' home regions; locals mostly 胶南 (370284) if born before 2012."""
    n = len(newcomer)
    codes = np.array([c for c, _ in vocab.NEWCOMER_REGIONS], np.int64)
    weights = np.array([w for _, w in vocab.NEWCOMER_REGIONS])
    other = np.array([c for c, _ in vocab.LOCAL_OTHER_REGIONS], np.int64)
    other_w = np.array([w for _, w in vocab.LOCAL_OTHER_REGIONS])
    local_region = np.where(
        year < 2012,
        np.where(
            rng.random(n) < 0.85, vocab.LOCAL_OLD_REGION, rng.choice(other, n, p=other_w / other_w.sum())
        ),
        np.where(rng.random(n) < 0.9, vocab.LOCAL_REGION, rng.choice(other, n, p=other_w / other_w.sum())),
    )
    return np.where(newcomer, rng.choice(codes, n, p=weights / weights.sum()), local_region)


def id_strings(key17: np.ndarray, corrupt: np.ndarray | None = None) -> pa.StringArray:
    """18-character id numbers; rows where `corrupt` is set get a wrong check character."""
    d = digits(key17, 17)
    check = np.frombuffer(check_chars(d).astype("S1").tobytes(), dtype=np.uint8).copy()
    if corrupt is not None and corrupt.any():
        # the check character five places further along "10X98765432": always a wrong one
        shifted = dict(zip(CHECK_CHARS.encode("ascii"), (CHECK_CHARS * 2)[5:16].encode("ascii"), strict=True))
        lookup = np.zeros(256, np.uint8)
        lookup[list(shifted)] = list(shifted.values())
        check[corrupt] = lookup[check[corrupt]]
    return fixed_ascii(np.hstack([d + ord("0"), check[:, None]]))
