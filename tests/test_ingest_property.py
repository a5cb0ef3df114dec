"""Property: whatever mix of good, bad and repeated rows arrives, every row is accounted for exactly once."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest import NOW, drop, make_id, registrations, write_reference

from wangtai.ingest import ingest_all
from wangtai.paths import DataPaths
from wangtai.warehouse import live_files

KINDS = ["good", "good", "good", "bad_check", "unknown_unit", "future", "bad_enum", "null_site", "repeat"]


def _row(kind: str, i: int, frame: pd.DataFrame) -> dict:
    row = frame.iloc[i].to_dict()
    if kind == "bad_check":
        last = row["id_number"][-1]
        row["id_number"] = row["id_number"][:17] + ("1" if last != "1" else "2")
    elif kind == "unknown_unit":
        row["unit_id"] = "NOPE"
    elif kind == "future":
        row["scanned_at"] = NOW + timedelta(minutes=10)
    elif kind == "bad_enum":
        row["channel"] = "短信"
    elif kind == "null_site":
        row["site"] = None
    return row


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=40), split=st.integers(0, 40))
def test_every_row_accounted_for(kinds: list[str], split: int) -> None:
    base = registrations(len(kinds))
    rows: list[dict] = []
    for i, kind in enumerate(kinds):
        if kind == "repeat" and rows:
            rows.append(dict(rows[i // 2]))  # an exact repeat of an earlier row, good or bad
        else:
            rows.append(_row("good" if kind == "repeat" else kind, i, base))
    expected_bad = sum(_is_bad(row) for row in rows)
    expected_accepted = sorted({row["scan_id"] for row in rows if not _is_bad(row)})
    frame = pd.DataFrame(rows)
    with tempfile.TemporaryDirectory() as tmp:
        paths = DataPaths(Path(tmp))
        write_reference(paths)
        # two files: the second overlaps the first, so cross-file duplicates occur too
        first, second = frame.iloc[: split % (len(frame) + 1)], frame
        results = []
        if len(first):
            drop(paths, "registrations", first, "a.parquet")
            results += ingest_all(paths, now=NOW)
        drop(paths, "registrations", second, "b.parquet")
        results += ingest_all(paths, now=NOW)
        for result in results:
            assert result.rows_in == result.accepted + result.quarantined + result.duplicates
        last = results[-1]
        assert last.rows_in == len(frame)
        if last.outcome == "duplicate_file":  # the second file is byte-identical to the first
            assert last.duplicates == len(frame)
        else:
            assert last.quarantined == expected_bad
        files = live_files(paths.warehouse / "registrations")
        stored = [s for f in files for s in pq.read_table(f).column("scan_id").to_pylist()]
        assert sorted(stored) == expected_accepted
        assert sum(r.accepted for r in results) == len(expected_accepted)


def _is_bad(row: dict) -> bool:
    return (
        row["unit_id"] == "NOPE"
        or row["channel"] == "短信"
        or row["site"] is None
        or row["scanned_at"] > NOW + timedelta(minutes=5)
        or row["id_number"] != make_id(int(row["scan_id"][1:]))
    )
