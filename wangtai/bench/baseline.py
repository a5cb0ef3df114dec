"""The baseline: the page figures computed the way a typical Streamlit tutorial does it — ``pd.read_parquet``
of the warehouse files into DataFrames, then pandas filtering and groupby on every rerun.

``load(paths)`` reads what the dashboard reads (the current snapshots, every accepted increment batch,
reference data, manifest, quarantine); ``QUERIES[name](frames, **params)`` computes the figures of one
named query with pandas. The figures follow DATA_CONTRACT.md §6 like the SQL does; they are a yardstick
for speed and memory, not a second implementation the dashboard relies on.
"""

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from wangtai import clock
from wangtai.paths import DataPaths
from wangtai.warehouse import live_files

LIVING, NEWCOMER = "在住", "流动人口"


def _read_dir(folder) -> pd.DataFrame:
    files = live_files(folder)  # after compaction: the segment, not the small files it superseded
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)


def load(paths: DataPaths) -> dict[str, pd.DataFrame]:
    wh = paths.warehouse
    manifest = _read_dir(wh / "manifest")
    decisions = _read_dir(wh / "decisions")
    accepted = set(manifest.loc[manifest["outcome"] == "accepted", "batch_id"])
    if not decisions.empty:
        accepted |= set(decisions.loc[decisions["decision"] == "accept", "batch_id"])
    manifest["is_accepted"] = manifest["batch_id"].isin(accepted)
    frames = {"manifest": manifest}
    for feed in ("residents", "houses"):
        rows = manifest[(manifest["feed"] == feed) & manifest["is_accepted"]].sort_values("ingested_at")
        current = rows["batch_id"].iloc[-1] if len(rows) else None
        frames[feed] = pd.read_parquet(wh / feed / f"{current}.parquet") if current else pd.DataFrame()
    for feed in ("registrations", "source_records"):
        frame = _read_dir(wh / feed)
        frames[feed] = frame[frame["batch_id"].isin(accepted)] if len(frame) else frame
    for name in ("communities", "units", "boundaries", "campaign"):
        frames[name] = pd.read_parquet(wh / "reference" / f"{name}.parquet")
    quarantine = []
    for feed in ("residents", "houses", "registrations", "source_records"):
        for path in sorted((paths.quarantine / feed).glob("*.parquet")):
            if "__" not in path.name:
                part = pd.read_parquet(path)
                part["batch_id"] = path.stem
                quarantine.append(part)
    frames["quarantine"] = pd.concat(quarantine, ignore_index=True) if quarantine else pd.DataFrame()
    return frames


# ---- helpers ------------------------------------------------------------------------------------------


def _now(now=None) -> datetime:
    return pd.Timestamp(now).to_pydatetime() if now is not None else clock.now()


def _codes(f, community_code=None, area=None) -> pd.Series:
    c = f["communities"]
    if community_code:
        c = c[c["community_code"] == community_code]
    if area:
        c = c[c["area"] == area]
    return c["community_code"]


def _living(f) -> pd.DataFrame:
    r = f["residents"]
    return r[r["status"] == LIVING]


def _newcomers(f, community_code=None, area=None) -> pd.DataFrame:
    live = _living(f)
    new = live[live["population_type"] == NEWCOMER]
    return new[new["community_code"].isin(_codes(f, community_code, area))]


def _campaign(f) -> pd.Series:
    return f["campaign"].sort_values("deadline").iloc[-1]


def _plan_rate(f, today) -> float:
    c = _campaign(f)
    span = (pd.Timestamp(c["deadline"]) - pd.Timestamp(c["start"])).days
    done = (pd.Timestamp(today) - pd.Timestamp(c["start"])).days
    return c["target_rate"] * min(1.0, max(0.0, done / span))


def _first_days(f) -> pd.Series:
    return f["registrations"].groupby("person_key")["scanned_at"].min().dt.normalize()


def _scans(f, community_code=None, area=None) -> pd.DataFrame:
    units = f["units"]
    in_scope = units.loc[units["community_code"].isin(_codes(f, community_code, area)), "unit_id"]
    reg = f["registrations"]
    return reg[reg["unit_id"].isin(in_scope)]


# ---- the named queries ----------------------------------------------------------------------------------


def overview(f, community_code=None, area=None, now=None):
    now = _now(now)
    codes = _codes(f, community_code, area)
    live = _living(f)
    residents = live[live["community_code"].isin(codes)]
    reg = f["registrations"].merge(f["units"][["unit_id", "community_code"]], on="unit_id", how="left")
    people = set(reg["person_key"].unique())
    newcomers = residents[residents["population_type"] == NEWCOMER]
    first = reg.sort_values("scanned_at").drop_duplicates("person_key")
    discovered = first[first["community_code"].isin(codes) & ~first["person_key"].isin(live["person_key"])]
    scans = reg[reg["community_code"].isin(codes)]
    houses = f["houses"][f["houses"]["community_code"].isin(codes)]
    rentals = houses[houses["house_type"] == "出租"]
    return pd.DataFrame(
        [
            {
                "residents": len(residents),
                "newcomers": len(newcomers),
                "registered": int(newcomers["person_key"].isin(people).sum()),
                "discovered": len(discovered),
                "scans_today": int(
                    ((scans["scanned_at"].dt.date == now.date()) & (scans["scanned_at"] <= now)).sum()
                ),
                "scans_last_hour": int(
                    ((scans["scanned_at"] > now - timedelta(hours=1)) & (scans["scanned_at"] <= now)).sum()
                ),
                "rentals": len(rentals),
                "rental_archive_rate": rentals["archive_status"].isin(["已建档", "已复核"]).mean(),
                "plan_rate": _plan_rate(f, now.date()),
                "as_of": f["manifest"].loc[f["manifest"]["is_accepted"], "ingested_at"].max(),
            }
        ]
    )


def _per_community(f, with_registered=False):
    live = _living(f).copy()
    live["newcomer"] = live["population_type"] == NEWCOMER
    aggs = {"residents": ("newcomer", "size"), "newcomers": ("newcomer", "sum")}
    if with_registered:
        live["registered"] = live["newcomer"] & live["person_key"].isin(f["registrations"]["person_key"])
        aggs["registered"] = ("registered", "sum")
    return live.groupby("community_code").agg(**aggs).reset_index()


def community_share(f, community_code=None, area=None):
    c = f["communities"][f["communities"]["community_code"].isin(_codes(f, community_code, area))]
    out = c.merge(_per_community(f, True), on="community_code", how="left")
    out["newcomer_share"] = out["newcomers"] / out["residents"]
    out["registration_rate"] = out["registered"] / out["newcomers"]
    return out.sort_values("newcomer_share", ascending=False)


def area_share(f, community_code=None, area=None):
    c = f["communities"][f["communities"]["community_code"].isin(_codes(f, community_code, area))]
    out = (
        c.merge(_per_community(f), on="community_code", how="left")
        .groupby("area")[["residents", "newcomers"]]
        .sum()
        .reset_index()
    )
    out["newcomer_share"] = out["newcomers"] / out["residents"]
    return out.sort_values("newcomer_share", ascending=False)


def community_map(f, community_code=None, area=None):
    c = f["communities"][f["communities"]["community_code"].isin(_codes(f, community_code, area))]
    out = c.merge(f["boundaries"], on="community_code", how="left").merge(
        _per_community(f), on="community_code", how="left"
    )
    out["newcomer_share"] = out["newcomers"] / out["residents"]
    return out


def newcomer_density(f, community_code=None, area=None):
    live = _living(f)
    live = live[live["community_code"].isin(_codes(f, community_code, area)) & live["cell_id"].notna()]
    cells = (
        live.assign(newcomer=live["population_type"] == NEWCOMER)
        .groupby("cell_id")
        .agg(residents=("newcomer", "size"), newcomers=("newcomer", "sum"))
        .reset_index()
    )
    cells = cells[cells["newcomers"] > 0]
    cells["lat"] = (cells["cell_id"] // 1_000_000 + 0.5) * 0.0015
    cells["lon"] = (cells["cell_id"] % 1_000_000 + 0.5) * 0.002
    return cells


def registration_progress(f, community_code=None, area=None, now=None):
    today = pd.Timestamp(_now(now).date())
    c = _campaign(f)
    start = pd.Timestamp(c["start"])
    newcomers = _newcomers(f, community_code, area)
    first = _first_days(f)
    days = newcomers["person_key"].map(first).dropna().clip(lower=start, upper=today)
    daily = days.value_counts().reindex(pd.date_range(start, today), fill_value=0)
    out = pd.DataFrame({"day": daily.index, "new_registered": daily.to_numpy()})
    out["registered_cumulative"] = out["new_registered"].cumsum()
    span = (pd.Timestamp(c["deadline"]) - start).days
    out["plan_cumulative"] = (
        c["target_rate"] * len(newcomers) * ((out["day"] - start).dt.days / span).clip(0, 1)
    )
    out["newcomers"] = len(newcomers)
    return out


def campaign_projection(f, community_code=None, area=None, now=None):
    today = pd.Timestamp(_now(now).date())
    c = _campaign(f)
    newcomers = _newcomers(f, community_code, area)
    days = newcomers["person_key"].map(_first_days(f)).dropna()
    registered = len(days)
    recent = int(((days > today - pd.Timedelta(days=14)) & (days <= today)).sum())
    target = int(np.ceil(c["target_rate"] * len(newcomers)))
    return pd.DataFrame(
        [
            {
                "newcomers": len(newcomers),
                "registered": registered,
                "target_registered": target,
                "pace_14d": recent / 14,
                "remaining": max(0, target - registered),
            }
        ]
    )


def unit_progress(f, community_code=None, area=None, now=None):
    now = _now(now)
    units = f["units"][f["units"]["community_code"].isin(_codes(f, community_code, area))]
    live = _living(f)
    newcomers = live[live["population_type"] == NEWCOMER]
    newcomers = newcomers.assign(registered=newcomers["person_key"].isin(f["registrations"]["person_key"]))
    per_unit = (
        newcomers.groupby("unit_id")
        .agg(newcomers=("registered", "size"), registered=("registered", "sum"))
        .reset_index()
    )
    reg = f["registrations"]
    recent = reg[(reg["scanned_at"] > now - timedelta(days=7)) & (reg["scanned_at"] <= now)]
    scans_7d = recent.groupby("unit_id").size().rename("scans_7d").reset_index()
    out = (
        units.merge(per_unit, on="unit_id", how="left")
        .merge(scans_7d, on="unit_id", how="left")
        .fillna({"newcomers": 0, "registered": 0, "scans_7d": 0})
    )
    plan = _plan_rate(f, now.date())
    out["registration_rate"] = out["registered"] / out["newcomers"]
    out["gap"] = out["registered"] - plan * out["newcomers"]
    return out.sort_values(["gap", "unit_id"])


def registration_daily(f, community_code=None, area=None):
    scans = _scans(f, community_code, area)
    return (
        scans.groupby([scans["scanned_at"].dt.date.rename("day"), "channel"])
        .size()
        .rename("scans")
        .reset_index()
    )


def registration_sites(f, community_code=None, area=None):
    scans = _scans(f, community_code, area)
    return (
        scans.groupby("site").agg(scans=("scan_id", "size"), people=("person_key", "nunique")).reset_index()
    )


def registration_heatmap(f, community_code=None, area=None):
    scans = _scans(f, community_code, area)
    t = scans["scanned_at"]
    counts = scans.groupby([t.dt.dayofweek.rename("weekday") + 1, t.dt.hour.rename("hour")]).size()
    grid = pd.MultiIndex.from_product([range(1, 8), range(24)], names=["weekday", "hour"])
    return counts.reindex(grid, fill_value=0).rename("scans").reset_index()


def community_composition(f, community_code=None, area=None, now=None):
    today = pd.Timestamp(_now(now).date())
    new = _newcomers(f, community_code, area)
    region = new["home_region"].fillna("")
    origin = np.where(
        region.str.startswith("3702"),
        "本市（青岛）",
        np.where(region.str.startswith("37"), "本省其他市", region.str[:2]),
    )
    age = today.year - new["birth_year"]  # whole years from the birth year (the warehouse keeps no date)
    bands = pd.cut(age, [-1, 17, 29, 44, 59, 200], labels=["17-", "18–29", "30–44", "45–59", "60+"])
    parts = []
    for dim, values in (
        ("来源地", origin),
        ("原因", new["reason"].fillna("未填写")),
        ("年龄段", bands),
        ("性别", new["gender"].fillna("未知")),
    ):
        counts = pd.Series(values).value_counts()
        parts.append(
            pd.DataFrame(
                {
                    "dimension": dim,
                    "category": counts.index.astype(str),
                    "newcomers": counts.to_numpy(),
                    "share": (counts / counts.sum()).to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def source_coverage(f, community_code=None, area=None):
    new = _newcomers(f, community_code, area)
    rec = f["source_records"][["source", "person_key"]].drop_duplicates()
    matched = rec[rec["person_key"].isin(new["person_key"])].groupby("source").size()
    return pd.DataFrame(
        {
            "source": matched.index,
            "newcomers_matched": matched.to_numpy(),
            "share_of_newcomers": (matched / max(1, len(new))).to_numpy(),
        }
    )


def unregistered_newcomers(f, community_code=None, area=None, unit_id=None, limit=None):
    units = f["units"][f["units"]["community_code"].isin(_codes(f, community_code, area))]
    if unit_id:
        units = units[units["unit_id"] == unit_id]
    live = _living(f)
    new = live[(live["population_type"] == NEWCOMER) & live["unit_id"].isin(units["unit_id"])]
    out = new[~new["person_key"].isin(f["registrations"]["person_key"])]
    out = out.merge(units[["unit_id", "unit_name"]], on="unit_id").merge(
        f["communities"][["community_code", "community_name"]], on="community_code", how="left"
    )
    out = out.sort_values(["unit_id", "community_code", "house_id", "id_masked"]).assign(total=len(out))
    return out.head(limit if limit is not None else len(out))[
        [
            "unit_id",
            "unit_name",
            "community_code",
            "community_name",
            "name_masked",
            "id_masked",
            "phone_masked",
            "house_id",
            "arrival_date",
            "reason",
            "total",
        ]
    ]


def communities(f):
    return f["communities"].sort_values(["area", "community_code"])


def data_freshness(f):
    m = f["manifest"].sort_values("ingested_at")
    return (
        m.groupby("feed")
        .agg(
            last_file=("file_name", "last"),
            last_ingested_at=("ingested_at", "max"),
            quarantined_rows=("quarantined", "sum"),
        )
        .reset_index()
    )


def held_snapshots(f):
    m = f["manifest"]
    return m[(m["outcome"] == "held") & ~m["is_accepted"]]


def quarantine_reasons(f, feed=None):
    q = f["quarantine"]
    if q.empty:
        return q
    reasons = q.assign(reason=q["_reasons"].fillna("未注明原因").str.split("；")).explode("reason")
    out = reasons.groupby(["batch_id", "reason"])["_row"].nunique().rename("rows").reset_index()
    return out.merge(f["manifest"][["batch_id", "feed", "file_name", "ingested_at"]], on="batch_id")


QUERIES = {
    fn.__name__: fn
    for fn in (
        overview,
        community_share,
        area_share,
        community_map,
        newcomer_density,
        registration_progress,
        campaign_projection,
        unit_progress,
        registration_daily,
        registration_sites,
        registration_heatmap,
        community_composition,
        source_coverage,
        unregistered_newcomers,
        communities,
        data_freshness,
        held_snapshots,
        quarantine_reasons,
    )
}
