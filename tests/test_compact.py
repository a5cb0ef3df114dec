"""Compaction: small batch files merged into segments — readers see the same rows before, during and after,
duplicates are still recognised, and superseded files go only after the grace period."""

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import copy_data
from wangtai.ingest import compact as compaction
from wangtai.ingest import ingest_all
from wangtai.ingest.store import read_manifest
from wangtai.paths import DataPaths
from wangtai.runner import Runner
from wangtai.simulate import Simulator
from wangtai.warehouse import is_segment, live_files, parquet_files, split_live

NOW = datetime(2026, 11, 27, 10, 30)
BATCHES = 12


def _names(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


@pytest.mark.parametrize(
    ("files", "live", "superseded"),
    [
        (["a.parquet", "b.parquet"], ["a.parquet", "b.parquet"], []),
        (["a.parquet", "a~c.parquet", "b.parquet", "c.parquet", "d.parquet"], ["a~c.parquet", "d.parquet"],
         ["a.parquet", "b.parquet", "c.parquet"]),
        # a segment of segments: the older, narrower segments are superseded too
        (["a~b.parquet", "a~d.parquet", "c~d.parquet", "e.parquet"], ["a~d.parquet", "e.parquet"],
         ["a~b.parquet", "c~d.parquet"]),
        # a batch after the segment, and one before it, stay live
        (["0.parquet", "a~c.parquet", "c.parquet", "d.parquet"], ["0.parquet", "a~c.parquet", "d.parquet"],
         ["c.parquet"]),
    ],
)  # fmt: skip
def test_a_file_is_superseded_exactly_when_a_segment_covers_its_batches(files, live, superseded) -> None:
    got_live, got_superseded = split_live([Path(name) for name in files])
    assert _names(got_live) == live
    assert sorted(_names(got_superseded)) == sorted(superseded)


def _land(paths: DataPaths, simulator: Simulator, k: int) -> None:
    simulator.registration_batch(20, now=NOW - timedelta(minutes=BATCHES - k))
    ingest_all(paths)


def _all_queries(runner: Runner) -> dict[str, pd.DataFrame]:
    out = {}
    for name in runner.names():
        params = {"unit_id": "JW370211100001"} if "unit_id" in runner.spec(name).params else {}
        out[name] = runner.run(name, params).reset_index(drop=True)
    return out


@pytest.fixture
def twins(demo_paths: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The same batches landed on two copies of the demo: one compacting after 5 small files, one never."""
    compacted = copy_data(demo_paths, tmp_path / "compacted")
    plain = copy_data(demo_paths, tmp_path / "plain")
    watching = Runner(compacted)  # a server's runner, following every batch as it lands
    watching.refresh()
    for paths, after in ((compacted, 5), (plain, 10**9)):
        monkeypatch.setattr(compaction, "COMPACT_AFTER", after)
        simulator = Simulator(paths, seed=11, bad_share=0.1)
        for k in range(BATCHES):
            _land(paths, simulator, k)
            if paths is compacted:
                watching.refresh()
    return compacted, plain, watching


def test_compaction_merges_small_files_and_every_query_gives_what_it_gave_without(twins) -> None:
    compacted, plain, watching = twins
    for feed in ("manifest", "registrations"):
        live = live_files(compacted.warehouse / feed)
        assert any(is_segment(path) for path in live), f"{feed} was compacted"
        assert len(live) < len(live_files(plain.warehouse / feed))
    expected = _all_queries(Runner(plain))
    for runner in (Runner(compacted), watching):
        got = _all_queries(runner)
        for name, frame in expected.items():
            pd.testing.assert_frame_equal(got[name], frame, obj=name)


def test_every_accepted_row_is_in_exactly_one_live_file(twins) -> None:
    compacted, _, _ = twins
    manifest = read_manifest(compacted).to_pandas()
    for feed in ("registrations", "source_records"):
        accepted = int(manifest.loc[manifest["feed"] == feed, "accepted"].sum())
        live = live_files(compacted.warehouse / feed)
        assert sum(pq.read_metadata(path).num_rows for path in live) == accepted
    assert len(manifest) == manifest["batch_id"].nunique()


def test_a_scan_already_in_a_segment_is_still_a_duplicate(twins) -> None:
    compacted, _, _ = twins
    [segment] = [p for p in live_files(compacted.warehouse / "registrations") if is_segment(p)]
    scan_id = pq.read_table(segment, columns=["scan_id"]).column(0)[-1].as_py()
    archived = sorted((compacted.archive / "registrations").glob("*.parquet"))
    resent = next(
        p for p in archived if scan_id in pq.read_table(p, columns=["scan_id"]).column(0).to_pylist()
    )
    table = pq.read_table(resent)
    table = table.take(list(reversed(range(table.num_rows))))  # other bytes: not a known file, known rows
    pq.write_table(table, compacted.feed_inbox("registrations") / "resent.parquet")
    [result] = [r for r in ingest_all(compacted) if r.file_name == "resent.parquet"]
    assert result.outcome == "accepted" and result.accepted == 0
    assert result.duplicates > 0 and result.duplicates + result.quarantined == table.num_rows


def test_superseded_files_stay_through_the_grace_period_and_go_after_it(twins) -> None:
    compacted, _, _ = twins
    folder = compacted.warehouse / "registrations"
    superseded = split_live(parquet_files(folder))[1]
    assert superseded, "the merged batch files are still there for readers that listed them"
    assert compaction.remove_superseded(folder, grace=3600) == 0
    rows = sum(pq.read_metadata(path).num_rows for path in live_files(folder))
    assert compaction.remove_superseded(folder, grace=0) == len(superseded)
    assert split_live(parquet_files(folder))[1] == []
    assert sum(pq.read_metadata(path).num_rows for path in live_files(folder)) == rows
