"""GB 11643 公民身份号码: check character, parsing, masking. Vectorized helpers work on numpy arrays."""

import re
from datetime import date

import numpy as np

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_char(first17: str) -> str:
    total = sum(int(d) * int(w) for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def check_chars(digits: np.ndarray) -> np.ndarray:
    """Check characters for an (n, 17) integer array of digits."""
    return np.array(list(CHECK_CHARS))[(digits @ WEIGHTS) % 11]


def is_valid(id_number: str) -> bool:
    if not isinstance(id_number, str) or not _SHAPE.match(id_number):
        return False
    try:
        date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return False
    return check_char(id_number[:17]) == id_number[17]

