"""Which snapshot is current, and when a new snapshot is held for an operator to confirm (held.py)."""

from __future__ import annotations

REFUSED_SHARE = 0.02  # a snapshot with more than this share of rows refused is held
SHRINK_RATIO = 0.8  # ... or with fewer accepted rows than this share of the current snapshot's


def current_snapshot(manifest: list[dict], accepted_batches: set[str], feed: str) -> dict | None:
    """The current snapshot's manifest row (architecture.md: latest accepted or operator-accepted)."""
    candidates = [
        row
        for row in manifest
        if row["feed"] == feed and (row["outcome"] == "accepted" or row["batch_id"] in accepted_batches)
    ]
    return max(candidates, key=lambda row: row["ingested_at"], default=None)


def hold_reasons(
    manifest: list[dict], accepted_batches: set[str], feed: str, rows_in: int, accepted: int, quarantined: int
) -> list[str]:
    """Why a new snapshot of ``feed`` is held rather than made current (empty: it becomes current): too many
    rows refused, or far fewer rows accepted than the current snapshot has."""
    reasons = []
    if rows_in and quarantined > REFUSED_SHARE * rows_in:
        reasons.append(f"拒收 {quarantined} 行，占 {quarantined / rows_in:.1%}，超过 {REFUSED_SHARE:.0%}")
    current = current_snapshot(manifest, accepted_batches, feed)
    if current is not None and accepted < SHRINK_RATIO * current["accepted"]:
        reasons.append(
            f"入库 {accepted} 行，不到当前快照（{current['file_name']}，{current['accepted']} 行）的 "
            f"{SHRINK_RATIO:.0%}"
        )
    return reasons
