"""A live demo feed: writes realistic 一家亲 registration batches into the inbox in real time.

合成演示数据 — the simulator plays the scan-registration platform: every ``interval`` seconds it writes one
file of scans (``rate`` scans per minute on average) into ``inbox/registrations/``, under a hidden
temporary name renamed into place when complete, exactly as a source system must (DATA_CONTRACT.md §1).
Now and then (``snapshot_every`` batches) it also plays the police records and sends a new residents
snapshot with a few arrivals and departures. Every ``workbook_every``-th batch (default: one in ten) comes
as a clerk's Excel workbook instead of Parquet — a title row, the Chinese column names, the id numbers as
text, the times as Excel times — the way 入户登记 sheets arrive (issue 13), and ingest reads it the same.

It only uses what a source system would have: the reference units, and the residents of the latest
residents file (in ``inbox/`` or ``archive/``), so scans belong to real newcomers of the data set; it
prefers people who have not registered yet (read from the registration files it and the demo sent), and
now and then scans someone the police records do not know yet (the campaign "discovers" them). About one
row in a hundred is deliberately bad (wrong check character, unknown unit, unknown channel) so the
quarantine has something to show. (Who registered is read back from the Parquet files only: after a restart
the people of earlier workbooks may be scanned again, which is a re-scan, as happens.)
"""

from __future__ import annotations

import io
import os
import re
import secrets
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wangtai import clock
from wangtai.contract import CHANNELS, NEWCOMER, REASONS, SITES, UNIT_TYPES, feed_file_schema
from wangtai.demo._write import write_table
from wangtai.demo.events import CHANNEL_P, SITE_P
from wangtai.idnumber import CHECK_CHARS, WEIGHTS
from wangtai.paths import DataPaths

WORKBOOK_EVERY = 10  # one batch in ten arrives as an Excel workbook
WORKBOOK_TITLE = "王台街道一家亲扫码登记表（入户登记汇总）"
RESCAN_SHARE = 0.12  # scans of people who registered before (a new job, a lost confirmation)
DISCOVER_SHARE = 0.03  # scans of people not (yet) in the police records
BAD_KINDS = ("check", "unit", "channel")


class SimulationError(RuntimeError):
    """Nothing to simulate from: no reference units or no residents file yet."""


def _latest(folders: list[Path]) -> Path | None:
    found = []
    for folder in folders:
        if folder.is_dir():
            for entry in os.scandir(folder):
                if entry.name.endswith(".parquet") and not entry.name.startswith("."):
                    found.append((entry.stat().st_mtime_ns, entry.name, Path(entry.path)))
    return max(found)[2] if found else None


def _files(folders: list[Path]) -> list[Path]:
    return [
        Path(e.path)
        for folder in folders
        if folder.is_dir()
        for e in os.scandir(folder)
        if e.name.endswith(".parquet") and not e.name.startswith(".")
    ]


def valid_ids(ids: pa.Array) -> np.ndarray:
    """Vectorized GB 11643 check (shape and check character) for a string array."""
    values = np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object)
    ok = np.array([isinstance(v, str) and len(v) == 18 for v in values])
    if not ok.any():
        return ok
    raw = np.frombuffer("".join(values[ok]).encode("ascii", "replace"), np.uint8).reshape(-1, 18)
    digits = raw[:, :17].astype(np.int64) - ord("0")
    good = (digits >= 0).all(axis=1) & (digits <= 9).all(axis=1)
    check = np.frombuffer(CHECK_CHARS.encode(), np.uint8)[(digits @ WEIGHTS) % 11]
    good &= raw[:, 17] == check
    ok[np.flatnonzero(ok)] = good
    return ok


def new_ids(rng: np.random.Generator, n: int, prefixes: np.ndarray, today: date) -> list[str]:
    """n fresh, valid id numbers: a home region of the data set, an adult's birth date, a sequence."""
    out = []
    for _ in range(n):
        region = str(rng.choice(prefixes))
        born = today - timedelta(days=int(rng.integers(18 * 365, 58 * 365)))
        first17 = f"{region}{born:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
        total = sum(int(d) * int(w) for d, w in zip(first17, WEIGHTS, strict=True))
        out.append(first17 + CHECK_CHARS[total % 11])
    return out


@dataclass
class Batch:
    path: Path
    rows: int
    good: int  # rows that pass validation (bad rows are deliberate)
    bad: int


class Simulator:
    """State of one simulation: the units, the newcomers, who registered already."""

    def __init__(
        self,
        paths: DataPaths,
        seed: int | None = None,
        bad_share: float = 0.01,
        workbook_every: int = WORKBOOK_EVERY,
    ):
        self.paths = paths
        self.rng = np.random.default_rng(seed)
        self.bad_share = bad_share
        self.workbook_every = workbook_every  # 0: always Parquet
        self.token = secrets.token_hex(3) if seed is None else f"{seed % 0xFFFFFF:06x}"
        self.sequence = 0
        self._load_units()
        self._load_residents()
        self._load_registered()

    # ---- what a source system knows ----------------------------------------------------------------

    def _load_units(self) -> None:
        ref = self.paths.reference
        path = ref / "units.parquet"
        if path.exists():
            table = pq.read_table(path, columns=["unit_id", "unit_type"])
        elif (ref / "units.csv").exists():
            from pyarrow import csv

            table = csv.read_csv(ref / "units.csv").select(["unit_id", "unit_type"])
        else:
            raise SimulationError("reference/ 中没有 units（管理单位）文件，无法模拟扫码登记。")
        self.unit_ids = np.asarray(table.column("unit_id").cast(pa.string()).to_pylist(), dtype=object)
        types = table.column("unit_type").to_pylist()
        self.unit_type = {
            u: UNIT_TYPES.index(t) if t in UNIT_TYPES else 0
            for u, t in zip(self.unit_ids, types, strict=True)
        }

    def residents_file(self) -> Path | None:
        return _latest([self.paths.feed_inbox("residents"), self.paths.archive / "residents"])

    def _load_residents(self) -> None:
        path = self.residents_file()
        if path is None:
            raise SimulationError(
                "收件箱和归档中都没有实有人口文件，无法模拟扫码登记（先运行 wangtai demo）。"
            )
        self.residents_path = path
        table = pq.read_table(path, columns=["id_number", "population_type", "status", "unit_id"])
        ids = table.column("id_number").combine_chunks()
        keep = (
            valid_ids(ids)
            & np.asarray(pc.equal(table.column("population_type"), NEWCOMER).to_numpy(zero_copy_only=False))
            & np.asarray(pc.equal(table.column("status"), "在住").to_numpy(zero_copy_only=False))
            & np.asarray(pc.is_in(table.column("unit_id"), pa.array(self.unit_ids.tolist())).to_numpy(False))
        )
        keep = np.asarray(keep, dtype=bool)
        self.newcomer_ids = np.asarray(ids.to_pylist(), dtype=object)[keep]
        self.newcomer_units = np.asarray(table.column("unit_id").to_pylist(), dtype=object)[keep]
        self.prefixes = (
            np.unique([i[:6] for i in self.newcomer_ids[:5000]]) if len(self.newcomer_ids) else None
        )
        if not len(self.newcomer_ids):
            raise SimulationError(f"{path.name} 中没有在住的新市民，无法模拟扫码登记。")

    def _load_registered(self) -> None:
        folders = [self.paths.feed_inbox("registrations"), self.paths.archive / "registrations"]
        registered: set[str] = set()
        for path in _files(folders):
            try:
                registered.update(pq.read_table(path, columns=["id_number"]).column("id_number").to_pylist())
            except Exception:  # a broken file is ingest's business, not ours
                continue
        self.registered = registered
        self._find_unregistered()

    def _find_unregistered(self) -> None:
        """Newcomers not registered yet. (np.isin on object arrays is quadratic: use Arrow's hash set.)"""
        done = pc.is_in(pa.array(self.newcomer_ids.tolist(), pa.string()), pa.array(list(self.registered)))
        self.unregistered = np.flatnonzero(~np.asarray(done.to_numpy(zero_copy_only=False), dtype=bool))

    # ---- one registration batch --------------------------------------------------------------------

    def registration_batch(self, n: int, now: datetime | None = None, window: float = 60.0) -> Batch | None:
        """Write n scans from the last ``window`` seconds into inbox/registrations/; None when n == 0."""
        if n <= 0:
            return None
        rng = self.rng
        now = (now or clock.now()).replace(microsecond=0)
        ids, units = [], []
        for _ in range(n):
            roll = rng.random()
            if roll < DISCOVER_SHARE:  # someone the police records do not know yet
                ids.append(new_ids(rng, 1, self.prefixes, now.date())[0])
                units.append(str(rng.choice(self.unit_ids)))
                continue
            if roll < 1 - RESCAN_SHARE and len(
                self.unregistered
            ):  # a newcomer registering for the first time
                pick = int(rng.integers(len(self.unregistered)))
                person = int(self.unregistered[pick])
                self.unregistered = np.delete(self.unregistered, pick)
            else:  # anyone scanning (again)
                person = int(rng.integers(len(self.newcomer_ids)))
            ids.append(self.newcomer_ids[person])
            units.append(self.newcomer_units[person])
        unit_type = np.array([self.unit_type.get(u, 0) for u in units])
        channel = _categorical(rng, CHANNEL_P, unit_type)
        site = _categorical(rng, SITE_P, channel)
        offsets = np.sort(rng.uniform(0, max(window, 1.0), n))[::-1]
        times = [now - timedelta(seconds=int(s)) for s in offsets]
        channels = [CHANNELS[c] for c in channel]
        sites = [SITES[s] for s in site]

        bad = np.full(n, -1)
        count = int(rng.binomial(n, self.bad_share)) if self.bad_share > 0 else 0
        if count:
            for row, kind in zip(
                rng.choice(n, count, replace=False), rng.integers(0, len(BAD_KINDS), count), strict=True
            ):
                bad[row] = kind
                if BAD_KINDS[kind] == "check":
                    wrong = CHECK_CHARS[(CHECK_CHARS.index(ids[row][17]) + 5) % 11]
                    ids[row] = ids[row][:17] + wrong
                elif BAD_KINDS[kind] == "unit":
                    units[row] = "QY9999"
                else:
                    channels[row] = "微信小程序"
        self.sequence += 1
        stamp = f"{now:%Y%m%d%H%M%S}"
        table = pa.table(
            {
                "scan_id": [f"SIM{stamp}{self.token}{self.sequence:05d}{i:04d}" for i in range(n)],
                "scanned_at": pa.array(times, pa.timestamp("us")),
                "id_number": ids,
                "unit_id": units,
                "channel": channels,
                "site": sites,
            },
            schema=feed_file_schema("registrations"),
        )
        stem = self.paths.feed_inbox("registrations") / f"sim_{stamp}_{self.token}_{self.sequence:05d}"
        if self.workbook_every and self.sequence % self.workbook_every == 0:
            path = stem.with_name(f"{stem.name}_入户登记.xlsx")
            write_workbook(path, table, "registrations", WORKBOOK_TITLE, now)
        else:
            path = stem.with_name(f"{stem.name}.parquet")
            write_table(path, table)  # hidden temporary name, then rename: ingest never sees half a file
        self.registered.update(i for i, b in zip(ids, bad, strict=True) if b < 0)
        good = int((bad < 0).sum())
        return Batch(path, n, good, n - good)

    # ---- now and then: a new residents snapshot ------------------------------------------------------

    def residents_snapshot(self, now: datetime | None = None, changes: int = 0) -> Path:
        """Re-send the latest residents file with a few arrivals and departures of newcomers."""
        rng = self.rng
        now = (now or clock.now()).replace(microsecond=0)
        table = pq.read_table(self.residents_path)
        n = table.num_rows
        changes = changes or max(3, n // 5000)
        status = np.asarray(table.column("status").to_pylist(), dtype=object)
        updated = table.column("updated_at").cast(pa.timestamp("us")).to_pylist()
        newcomer = np.asarray(
            pc.equal(table.column("population_type"), NEWCOMER).to_numpy(zero_copy_only=False)
        )
        living = np.flatnonzero(newcomer & (status == "在住"))
        leaving = rng.choice(living, min(len(living), changes // 2), replace=False) if len(living) else []
        for row in leaving:
            status[row] = "离开"
            updated[row] = now
        table = table.set_column(
            table.schema.get_field_index("status"), "status", pa.array(status, pa.string())
        )
        table = table.set_column(
            table.schema.get_field_index("updated_at"), "updated_at", pa.array(updated, pa.timestamp("us"))
        )
        # arrivals: newcomers moving in beside an existing newcomer (same unit, house and place)
        arrivals = changes - len(leaving)
        if arrivals > 0 and len(living):
            like = table.take(pa.array(rng.choice(living, arrivals)))
            columns = {name: like.column(name) for name in like.column_names}
            columns["id_number"] = pa.array(new_ids(rng, arrivals, self.prefixes, now.date()), pa.string())
            columns["phone"] = pa.nulls(arrivals, pa.string())
            columns["reason"] = pa.array(rng.choice(REASONS[:3], arrivals).tolist(), pa.string())
            columns["arrival_date"] = pa.array([now.date()] * arrivals, pa.date32())
            columns["status"] = pa.array(["在住"] * arrivals, pa.string())
            columns["updated_at"] = pa.array([now] * arrivals, pa.timestamp("us"))
            extra = pa.table(
                [columns[name].cast(table.schema.field(name).type) for name in table.column_names],
                schema=table.schema,
            )
            table = pa.concat_tables([table, extra])
        path = self.paths.feed_inbox("residents") / f"residents_sim_{now:%Y%m%d_%H%M%S}.parquet"
        write_table(path, table)
        self.residents_path = path
        self._load_residents()
        self._find_unregistered()
        return path


def write_workbook(path: Path, table: pa.Table, feed: str, title: str, when: datetime) -> None:
    """The rows as a clerk's workbook: a title row, the feed's Chinese column names (the first name each
    column accepts), text as text (an id number stays 18 characters), times as Excel times. Written under
    a hidden temporary name and renamed into place; its bytes depend on the rows and ``when`` only."""
    from openpyxl import Workbook

    from wangtai.ingest.readers.headers import label

    book = Workbook(write_only=True)
    book.properties.created = when
    sheet = book.create_sheet("登记表")
    sheet.append([title])
    sheet.append([label(feed, name) for name in table.column_names])
    for row in zip(*(table.column(name).to_pylist() for name in table.column_names), strict=True):
        sheet.append(list(row))
    saved = io.BytesIO()
    book.save(saved)
    path.parent.mkdir(parents=True, exist_ok=True)
    hidden = path.with_name(f".{path.name}.tmp")
    hidden.write_bytes(_stamped(saved.getvalue(), when))
    os.replace(hidden, path)


def _stamped(workbook: bytes, when: datetime) -> bytes:
    """openpyxl stamps the moment of saving (each zip entry's time, the document's "modified"): set both to
    ``when``, so that the same seed gives the same file (the same sha256, the same batch ids)."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, body)
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            target.writestr(entry, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _categorical(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    return np.array(
        [
            min(int(np.searchsorted(cdf[r], x, side="right")), probs.shape[1] - 1)
            for r, x in zip(rows, u, strict=True)
        ]
    )


def _alive(pid: int | None) -> bool:
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run(
    paths: DataPaths,
    rate: float = 6.0,
    interval: float = 60.0,
    snapshot_every: int = 60,
    bad_share: float = 0.01,
    batches: int = 0,
    seed: int | None = None,
    while_pid: int | None = None,
    report: Callable[[str], None] | None = print,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Write a batch every ``interval`` seconds (Poisson, ``rate`` scans a minute) until stopped, until
    ``batches`` were written (0 = forever), or until the process ``while_pid`` is gone. Returns the count."""
    simulator = Simulator(paths, seed=seed, bad_share=bad_share)
    written = 0
    tick = 0
    while batches <= 0 or written < batches:
        if not _alive(while_pid):
            break
        tick += 1
        batch = simulator.registration_batch(
            int(simulator.rng.poisson(rate * interval / 60)), window=interval
        )
        if batch is not None:
            written += 1
            if report:
                kind = "，Excel 工作簿" if batch.path.suffix == ".xlsx" else ""
                report(f"[模拟] {batch.path.name}：{batch.rows} 次扫码（其中 {batch.bad} 行故意写错{kind}）")
        if snapshot_every and tick % snapshot_every == 0:
            path = simulator.residents_snapshot()
            if report:
                report(f"[模拟] 新的实有人口快照 {path.name}")
        if batches > 0 and written >= batches:
            break
        sleep(interval)
    return written
