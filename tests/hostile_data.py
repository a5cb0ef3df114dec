"""A data set whose names attack the pages: every community, 片区 and unit name carries markup or template
syntax, written into reference/ as a source system would deliver it and landed by the real ingest.

Used by the page tests (AppTest: every page and the 大屏) and the browser test of 总览 and the 大屏."""

import shutil
from pathlib import Path

import pandas as pd

from wangtai.paths import DataPaths

HOSTILE = (
    "<style>*{display:none}</style>",
    '<a href="http://example.invalid/x">点我</a>',
    '"><img src=x onerror=alert(1)>',
    "{{社区}}",
    "$x 社区 $y",
)
# What must never reach the browser as markup: each would hide the page, add a link or run a script.
RAW_MARKUP = ("<style>*{display:none}", '<a href="http://example.invalid', "<img src=x")


def hostile(index: int, name: str) -> str:
    return f"{HOSTILE[index % len(HOSTILE)]}{name}"


def make(raw: DataPaths, target: Path) -> DataPaths:
    """A copy of the not yet ingested ``raw`` data set with hostile names, ingested."""
    from wangtai.ingest import ingest_all

    shutil.copytree(raw.root, target, dirs_exist_ok=True)
    paths = DataPaths(target)
    communities_file = paths.reference / "communities.parquet"
    communities = pd.read_parquet(communities_file)
    areas = {area: hostile(i, area) for i, area in enumerate(sorted(communities["area"].unique()))}
    communities["name"] = [hostile(i, name) for i, name in enumerate(communities["name"])]
    communities["area"] = communities["area"].map(areas)
    communities.to_parquet(communities_file, index=False)
    units_file = paths.reference / "units.parquet"
    units = pd.read_parquet(units_file)
    units["name"] = [hostile(i + 2, name) for i, name in enumerate(units["name"])]
    units.to_parquet(units_file, index=False)
    ingest_all(paths)
    return paths
