"""Synthetic demo data for 智慧王台: writes reference/ and inbox/ exactly as the source systems would.

合成演示数据 — every person, phone, company and house here is made up. The 84 divisions and 14 published
points are real public reference data; everything else (positions, 片区, the second 居委会, boundaries)
is a plausible assumption.

    generate(paths, residents=69_000, seed=20260315, bad_rows=0.002, now=None) -> summary dict

Deterministic for a seed and a `now`; all times are anchored on `now`. Vectorized, and written in row
groups, so that millions of residents take minutes and bounded memory.
"""

import json
import time
from datetime import datetime

import numpy as np
import pyarrow as pa

from wangtai import clock
from wangtai.demo import events, geography
from wangtai.demo._write import write_table, write_text
from wangtai.demo.houses import build_houses
from wangtai.demo.houses_file import write_houses
from wangtai.demo.people import LIVING, build_people
from wangtai.demo.residents_file import write_residents
from wangtai.demo.units import build_units
from wangtai.paths import DataPaths
from wangtai.progress import Steps

__all__ = ["generate"]

README = """合成演示数据（synthetic demo data）

本目录及收件箱中的数据由 `wangtai demo` 生成，用于演示和测试。
其中的人员、身份证号、电话、企业、房屋均为随机合成，不对应任何真实的人或单位。
村（居）名称和代码来自公开的统计用区划代码；除 14 个公开坐标外，其余位置、片区划分、边界
以及“王台社区”（第二个居委会，assumed=true）均为假设。
"""


def _campaign_toml() -> str:
    return (
        "# 一家亲扫码登记活动。合成演示数据（synthetic demo data）：由 wangtai demo 生成，并非真实数据。\n"
        f'name = "{events.CAMPAIGN_NAME}"\n'
        f"start = {events.CAMPAIGN_START.isoformat()}\n"
        f"deadline = {events.CAMPAIGN_DEADLINE.isoformat()}\n"
        f"target_rate = {events.TARGET_RATE}\n"
        "demo = true\n"
    )


def generate(
    paths: DataPaths,
    residents: int = 69_000,
    seed: int = 20260315,
    bad_rows: float = 0.002,
    now: datetime | None = None,
) -> dict:
    """Write a synthetic data set into `paths.reference` and `paths.inbox`; return counts and files."""
    started = time.perf_counter()
    now = (now or clock.now()).replace(tzinfo=None)
    now_us = int(np.datetime64(now, "us").astype(np.int64))
    rng = np.random.default_rng(seed)
    stamp = f"{now:%Y%m%d_%H%M%S}"
    written = []
    steps = Steps(7, f"生成演示数据（{residents:,} 人）")

    steps.step("区划与单位")
    geo = geography.build()
    units = build_units(geo, np.random.default_rng(geography.GEO_SEED))
    ref = paths.reference
    communities = pa.table(
        {
            "community_code": geo.codes,
            "name": geo.names,
            "kind": geo.kinds,
            "area": geo.areas,
            "assumed": pa.array(geo.assumed, pa.bool_()),
        }
    )
    write_table(ref / "communities.parquet", communities)
    write_table(ref / "units.parquet", units.table())
    write_text(ref / "boundaries.geojson", json.dumps(geo.geojson(), ensure_ascii=False))
    write_text(ref / "campaign.toml", _campaign_toml())
    write_text(ref / "README.txt", README)
    written += [
        ref / n for n in ("communities.parquet", "units.parquet", "boundaries.geojson", "campaign.toml")
    ]

    steps.step("人员")
    people, construction, _ = build_people(geo, units, residents, rng, now_us)
    steps.step("房屋")
    houses = build_houses(geo, units, people, construction, rng, now_us)
    steps.step("实有人口与房屋文件")
    res_path = paths.feed_inbox("residents") / f"residents_{stamp}.parquet"
    n_res, bad_res = write_residents(res_path, geo, units, people, houses, rng, now_us, bad_rows)
    house_path = paths.feed_inbox("houses") / f"houses_{stamp}.parquet"
    n_houses, bad_houses = write_houses(house_path, geo, houses, rng, now_us, bad_rows)
    written += [res_path, house_path]

    steps.step("扫码登记")
    scans = events.build_scans(people, units, rng, now, now_us)
    reg_files, bad_reg, redelivered = events.write_registrations(
        paths.feed_inbox("registrations"), scans, people, units, rng, now, bad_rows
    )
    steps.step("部门数据")
    records = events.build_records(people, units, rng, now_us)
    rec_files, bad_rec = events.write_records(
        paths.feed_inbox("source_records"), records, people, rng, now, now_us, bad_rows
    )
    written += reg_files + rec_files

    steps.step("汇总")
    snap = people.n_snapshot
    living_new = people.newcomer[:snap] & (people.status[:snap] == LIVING)
    registered = np.zeros(len(people.comm), bool)
    registered[scans["person"]] = True
    steps.close()
    return {
        "now": now.isoformat(sep=" "),
        "seed": seed,
        "communities": len(geo.codes),
        "units": len(units.ids),
        "enterprises": units.types.count("企业"),
        "residents_rows": n_res,
        "residents_living": int((people.status[:snap] == LIVING).sum()),
        "newcomers_living": int(living_new.sum()),
        "houses": n_houses,
        "scans": len(scans["time"]),
        "registered_newcomers": int(registered[:snap][living_new].sum()),
        "discovered": int(registered[snap:].sum()),
        "source_records": {source: len(rec["person"]) for source, rec in records.items()},
        "bad_rows": {
            "residents": bad_res,
            "houses": bad_houses,
            "registrations": bad_reg,
            "source_records": bad_rec,
        },
        "redelivered_scans": redelivered,
        "files": [str(p.relative_to(paths.root)) for p in written],
        "seconds": round(time.perf_counter() - started, 2),
    }
