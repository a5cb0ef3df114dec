"""Random draws shared by the demo builders: categories by row class, names, phones, deliberate bad rows."""

import numpy as np

from wangtai.demo import vocab


def categorical(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row r, an index drawn from probs[rows[r]] (probs: classes × choices)."""
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), np.int8)
    for k in range(probs.shape[0]):
        mask = rows == k
        out[mask] = np.minimum(np.searchsorted(cdf[k], u[mask], side="right"), probs.shape[1] - 1)
    return out


def random_names(rng: np.random.Generator, n: int) -> list[str]:
    sur = rng.choice(vocab.SURNAMES, n, p=vocab.SURNAME_WEIGHTS / vocab.SURNAME_WEIGHTS.sum())
    chars = list(vocab.GIVEN_CHARS)
    g1 = rng.choice(chars, n)
    g2 = np.where(rng.random(n) < 0.7, rng.choice(chars, n), "")
    return [f"{s}{a}{b}" for s, a, b in zip(sur, g1, g2, strict=True)]


def random_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(vocab.PHONE_PREFIXES, n) * 100_000_000 + rng.integers(0, 100_000_000, n)


def bad_row_kinds(rng: np.random.Generator, n: int, fraction: float, kinds: int, cap: float = 0.009):
    """Row → kind of deliberate error (-1: good): at least one, but never more than `cap` of the rows."""
    kind = np.full(n, -1, np.int8)
    if fraction <= 0 or n == 0:
        return kind
    count = min(max(1, round(n * fraction)), int(n * cap))
    rows = rng.choice(n, count, replace=False)
    kind[rows] = np.arange(count) % kinds
    return kind
