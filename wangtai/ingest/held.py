"""Held snapshots (DATA_CONTRACT.md §4): list them, and let an operator accept one."""

from __future__ import annotations

import pandas as pd

from wangtai import clock
from wangtai.contract import FEEDS
from wangtai.ingest.core import lock
from wangtai.ingest.errors import IngestError
from wangtai.ingest.snapshots import current_snapshot
from wangtai.ingest.store import read_decisions, read_manifest, write_decision_row
from wangtai.paths import DataPaths

HELD_COLUMNS = [
    "batch_id",
    "feed",
    "feed_label",
    "file_name",
    "ingested_at",
    "rows_in",
    "accepted",
    "quarantined",
    "reason",
]


def _accepted_batches(paths: DataPaths) -> set[str]:
    return {row["batch_id"] for row in read_decisions(paths).to_pylist() if row["decision"] == "accept"}


def list_held(paths: DataPaths) -> pd.DataFrame:
    """Snapshots held and not yet accepted, newest first."""
    accepted = _accepted_batches(paths)
    rows = [
        {**row, "feed_label": FEEDS[row["feed"]].label if row["feed"] in FEEDS else row["feed"]}
        for row in read_manifest(paths).to_pylist()
        if row["outcome"] == "held" and row["batch_id"] not in accepted
    ]
    rows.sort(key=lambda row: row["ingested_at"], reverse=True)
    return pd.DataFrame([{c: row[c] for c in HELD_COLUMNS} for row in rows], columns=HELD_COLUMNS)


def accept_held(paths: DataPaths, batch_id: str, operator: str) -> None:
    """Record an operator's decision to accept a held snapshot, making it current.

    Raises IngestError (in Chinese) for an unknown batch, a batch that is not held, one already accepted,
    or one that a newer current snapshot has superseded (accepting it would change nothing)."""
    paths.ensure()
    with lock(paths):
        manifest = read_manifest(paths).to_pylist()
        row = next((r for r in manifest if r["batch_id"] == batch_id), None)
        if row is None:
            raise IngestError(f"找不到批次 {batch_id}，请检查批次号。")
        if row["outcome"] != "held":
            raise IngestError(
                f"批次 {batch_id}（{row['file_name']}）不是待确认的快照"
                f"（处理结果：{row['outcome']}），无需接受。"
            )
        accepted = _accepted_batches(paths)
        if batch_id in accepted:
            raise IngestError(f"批次 {batch_id}（{row['file_name']}）已被接受，现为或曾为当前快照。")
        current = current_snapshot(manifest, accepted, row["feed"])
        if current is not None and current["ingested_at"] > row["ingested_at"]:
            raise IngestError(
                f"批次 {batch_id}（{row['file_name']}）之后已有更新的快照 {current['file_name']}"
                f"（批次 {current['batch_id']}）成为当前快照，接受旧快照不会生效。"
            )
        if not operator or not str(operator).strip():
            raise IngestError("请填写操作人。")
        decided_at = clock.now()
        write_decision_row(
            paths,
            {
                "decision_id": f"{decided_at:%Y%m%dT%H%M%S%f}-accept-{batch_id}",
                "batch_id": batch_id,
                "decision": "accept",
                "decided_at": decided_at,
                "operator": str(operator).strip(),
            },
        )
