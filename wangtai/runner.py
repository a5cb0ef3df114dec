"""The query runner: the only code that talks to DuckDB. Loads, checks and runs the files in ``queries/``.

A query file opens with a header (docs/architecture.md)::

    -- query: unit_progress
    -- returns: registration progress of every management unit against plan, behind plan first
    -- grain: one row per unit
    -- key: unit_id
    -- param community_code: 12-digit community code; null = the whole subdistrict

Parameters are always bound (``$name`` with a dict), never formatted into the SQL. A declared parameter the
caller leaves out is bound as NULL (null = no filter), except ``now``, which comes from ``wangtai.clock``.
"""

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from wangtai import clock, staging
from wangtai.paths import DataPaths

QUERIES_DIR = staging.QUERIES_DIR
HOT_DIR = QUERIES_DIR / "hot"

# Small staging views copied whole into memory on every new data version (a few thousand rows at most).
SMALL = ("communities", "units", "boundaries", "campaign", "provinces")
# Append-only folders of small immutable files, read once each: raw table, then its staging SQL over it.
# Staging views the in-memory tables always read (reference data, decisions); the snapshot views when a
# snapshot is reloaded; the rest (increment feeds, manifest, quarantine) only when a query reads them.
HOT_SOURCES = (
    "stg_decisions",
    "stg_communities",
    "stg_units",
    "stg_boundaries",
    "stg_campaign",
    "stg_provinces",
)
SNAPSHOT_SOURCES = ("stg_manifest", "stg_residents", "stg_houses")
APPEND_ONLY = {"manifest": "*", "quarantined_rows": "filename, _row, _reasons"}
_HEADER = re.compile(r"^--\s*(query|returns|grain|key|param\s+(\w+))\s*:\s*(.*?)\s*$")
_PARAM_USE = re.compile(r"\$([A-Za-z_]\w*)")
# Comments and string literals, removed before looking for $name uses.
_NOT_CODE = re.compile(r"--[^\n]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", re.S)


class QueryError(Exception):
    """Any failure of a query: unknown name, bad parameters, a broken file or a database error.

    ``str(error)`` is a Chinese message a clerk can read, followed by the English detail."""

    def __init__(self, message: str, detail: str = ""):
        self.message = message
        self.detail = detail
        super().__init__(f"{message}（{detail}）" if detail else message)


@dataclass(frozen=True)
class QuerySpec:
    name: str
    returns: str
    grain: str
    key: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)  # name → description, in header order
    sql: str = ""
    path: Path | None = None


def parse_query(text: str, path: Path | None = None) -> QuerySpec:
    """Parse and check one query file. Raises QueryError when the header is incomplete or the SQL uses a
    parameter the header does not declare (or the header declares one the SQL never uses)."""
    where = path.name if path else "<text>"
    fields: dict[str, str] = {}
    params: dict[str, str] = {}
    last: tuple[dict[str, str], str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break  # the header is the leading comment block
        match = _HEADER.match(stripped)
        if not match:
            # an indented comment line continues the field above it
            if last is not None and line.startswith("--   ") and stripped[2:].strip():
                target, key = last
                target[key] = f"{target[key]} {stripped[2:].strip()}"
            else:
                last = None
            continue
        if match.group(2):
            params[match.group(2)] = match.group(3)
            last = (params, match.group(2))
        else:
            fields[match.group(1)] = match.group(3)
            last = (fields, match.group(1))
    missing = [name for name in ("query", "returns", "grain", "key") if not fields.get(name)]
    if missing:
        raise QueryError("查询文件的说明头不完整", f"{where}: header lacks {', '.join(missing)}")
    if path is not None and fields["query"] != path.stem:
        raise QueryError("查询文件名与说明头不一致", f"{where}: header says query {fields['query']!r}")
    used = set(_PARAM_USE.findall(_NOT_CODE.sub(" ", text)))
    undeclared = sorted(used - set(params))
    if undeclared:
        raise QueryError(
            "查询使用了未声明的参数",
            f"{where}: ${', $'.join(undeclared)} used but not declared in the header",
        )
    unused = sorted(set(params) - used)
    if unused:
        raise QueryError("查询声明了未使用的参数", f"{where}: {', '.join(unused)} declared but never used")
    # "key: -" marks a query that returns one row and so needs no key
    key = tuple(part.strip() for part in fields["key"].split(",") if part.strip() not in ("", "-"))
    return QuerySpec(fields["query"], fields["returns"], fields["grain"], key, params, text, path)


def load_queries(queries_dir: Path = QUERIES_DIR) -> dict[str, QuerySpec]:
    specs = {}
    for path in sorted(queries_dir.glob("*.sql")):
        spec = parse_query(path.read_text(encoding="utf-8"), path)
        specs[spec.name] = spec
    return specs


def _reloads(have: set[str] | None, want: set[str]) -> bool:
    """Whether a table must be reloaded whole: first load, or something it holds went away."""
    return have is None or not have <= want


def _coerce(name: str, value: Any) -> Any:
    """Values as the caller gave them; strings from the command line or a URL made sensible."""
    if isinstance(value, str):
        value = value.strip()
        if value == "" or value.lower() in ("null", "none"):
            return None
        if name == "now":
            try:
                return datetime.fromisoformat(value)
            except ValueError as error:
                raise QueryError(
                    "参数 now 应为日期或时间，如 2026-11-27 或 2026-11-27T10:30", repr(value)
                ) from error
        return value
    if name == "now" and isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


class Runner:
    """Runs the named queries on one DuckDB connection (a cursor per thread) over the staging views."""

    def __init__(self, paths: DataPaths, queries_dir: Path = QUERIES_DIR):
        self.paths = paths
        self.queries_dir = queries_dir
        self._specs = load_queries(queries_dir)
        self._con = duckdb.connect(":memory:")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._version: str | None = None
        # the hot tables' SQL, comment lines dropped (their text may name a placeholder)
        self._hot_sql = {
            p.stem: "\n".join(
                line
                for line in p.read_text(encoding="utf-8").splitlines()
                if not line.lstrip().startswith("--")
            )
            for p in sorted(HOT_DIR.glob("*.sql"))
        }
        self._views: dict[str, str] = {}  # staging view → SQL it was created with
        self._views_current = False  # every staging view up to date with the data version
        self._loaded: dict[str, object] = {}  # what each hot table holds: batch id(s) or reference version
        self.last_refresh: dict[str, float] = {}  # seconds per step of the last refresh (for the benchmark)

    # -- the catalogue ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._specs)

    def spec(self, name: str) -> QuerySpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(self.names())
            raise QueryError(f"没有名为 {name} 的查询", f"unknown query {name!r}; known: {known}") from None

    # -- data version and staging ------------------------------------------------------------------------
    def data_version(self) -> str:
        return staging.data_version(self.paths)

    def refresh(self) -> bool:
        """Bring the in-memory tables up to the warehouse now; True when something had changed.

        A server calls this from its background thread as soon as a batch lands (``wangtai.live``), so that
        pages find the tables current; a query calls it too, in case it comes first."""
        version = self.data_version()
        if version == self._version:
            return False
        with self._lock:
            if version == self._version:
                return False
            try:
                files = staging.source_files(self.paths)
                # the views the in-memory tables are built from; the rest when a query asks for them
                staging.create_views(self._con, self.paths, self._views, only=HOT_SOURCES)
                self._materialize(version, files)
                self._views_current = False
            except staging.OldWarehouse as error:
                raise QueryError(str(error)) from error
            except staging.StagingError as error:
                raise QueryError("数据视图建立失败，请联系运维人员", str(error)) from error
            except duckdb.Error as error:
                self._loaded.clear()  # rebuild everything next time
                self._views.clear()
                detail = f"{type(error).__name__}: {error}"
                raise QueryError("数据载入内存失败，请联系运维人员", detail) from error
            self._version = version
            return True

    def _materialize(self, version: str, files: dict[str, tuple[Path, ...]]) -> None:
        """Bring the in-memory hot tables up to the warehouse, reloading only what changed, step by step (each
        step's docstring says when it reloads). One transaction: readers never see a half state."""
        con, timings = self._con, {}
        staging_sql = staging.staging_sql()
        con.execute("begin transaction")
        try:
            con.execute(self._hot_sql["macros"])
            self._load_reference(version.split("/")[-1], timings)
            for source, columns in APPEND_ONLY.items():
                self._load_append_only(source, columns, files, staging_sql, timings)
            batches = self._current_batches()
            scans = set(batches.get("registrations", []))
            scans_rebuilt = _reloads(self._loaded.get("registrations"), scans)
            residents_changed = self._load_snapshots(batches, scans_rebuilt, timings)
            self._load_registrations(scans, residents_changed, timings)
            self._load_source_records(set(batches.get("source_records", [])), residents_changed, timings)
            # the newcomers carry their registered flag: built once the first registrations are current
            if residents_changed or scans_rebuilt:
                for table in ("hot_newcomers", "roll_composition", "roll_birth_years"):
                    self._build(table, timings)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            self._loaded.clear()
            raise
        self.last_refresh = timings

    def _build(self, table: str, timings: dict) -> None:
        """(Re)create one hot table or rollup whole from its SQL in ``queries/hot/``."""
        t0 = time.perf_counter()
        self._con.execute(f"create or replace table {table} as {self._hot_sql[table]}")
        timings[table] = time.perf_counter() - t0

    def _load_reference(self, reference: str, timings: dict) -> None:
        """The small reference tables and the scope macros over them, copied whole when reference data
        changed; everything else is then reloaded too (units changed: scans' communities may have too)."""
        if self._loaded.get("reference") == reference:
            return
        self._loaded.clear()
        self._loaded["reference"] = reference
        for name in SMALL:
            t0 = time.perf_counter()
            self._con.execute(f"create or replace table hot_{name} as select * from stg_{name}")
            timings[name] = time.perf_counter() - t0
        self._con.execute(self._hot_sql["scope_macros"])

    def _load_append_only(
        self, source: str, columns: str, files: dict, staging_sql: dict[str, str], timings: dict
    ) -> None:
        """hot_<source> for an append-only folder (manifest, quarantined rows): each new file read once into
        hot_raw_<source>, emptied first when a file went away; the staging SQL re-run over it when a file
        came or went, and for the manifest every time (it also depends on decisions)."""
        con, loaded = self._con, self._loaded
        t0 = time.perf_counter()
        want, have = set(files.get(source, ())), loaded.get(source)
        raw = f"hot_raw_{source}"
        fresh = _reloads(have, want)
        if fresh:
            empty = staging.file_relation([], source)
            con.execute(f"create or replace table {raw} as select {columns} from {empty}")
            have = set()
        new = sorted(want - have)
        if new:
            relation = staging.file_relation(new, source, filename=source == "quarantined_rows")
            con.execute(f"insert into {raw} by name select {columns} from {relation}")
        loaded[source] = want
        if new or fresh or source == "manifest":
            sql = staging.render(staging_sql[f"stg_{source}"], {source: raw}).strip().rstrip(";")
            con.execute(f"create or replace table hot_{source} as {sql}")
            timings[source] = time.perf_counter() - t0

    def _current_batches(self) -> dict[str, list[str]]:
        """Each feed's current batch ids, by the manifest just loaded."""
        batches: dict[str, list[str]] = {}
        current = self._con.execute("select feed, batch_id from hot_manifest where is_current").fetchall()
        for feed, batch_id in current:
            batches.setdefault(feed, []).append(batch_id)
        return batches

    def _load_snapshots(self, batches: dict[str, list[str]], scans_rebuilt: bool, timings: dict) -> bool:
        """hot_residents and roll_cells when the current residents snapshot changed, roll_houses when the
        houses snapshot did. Returns whether the residents changed (the person-level tables follow them)."""
        loaded = self._loaded
        residents = tuple(sorted(batches.get("residents", [])))
        houses = tuple(sorted(batches.get("houses", [])))
        residents_changed = loaded.get("residents") != residents
        houses_changed = loaded.get("houses") != houses
        if residents_changed or houses_changed or scans_rebuilt:  # hot_newcomers reads stg_residents too
            staging.create_views(self._con, self.paths, self._views, only=SNAPSHOT_SOURCES)
        if residents_changed:
            for table in ("hot_residents", "roll_cells"):
                self._build(table, timings)
            loaded["residents"] = residents
        if houses_changed:
            self._build("roll_houses", timings)
            loaded["houses"] = houses
        return residents_changed

    def _append_feed(self, feed: str, want: set[str], timings: dict) -> tuple[bool, bool]:
        """hot_<feed> for an increment feed, when its current batches changed: rebuilt whole on first load or
        when a batch went away, else only the new batches' files read (once, into ``new_<feed>``) and
        appended. Returns (changed, rebuilt)."""
        have = self._loaded.get(feed)
        changed = have is None or have != want
        rebuilt = _reloads(have, want)
        if not changed:
            return changed, rebuilt
        t0 = time.perf_counter()
        read = want if rebuilt else want - have  # new increment batches: only their files
        rows = staging.render(
            self._hot_sql[f"hot_{feed}"], {"batch": staging.batch_relation(self.paths, feed, read)}
        )
        if rebuilt:
            self._con.execute(f"create or replace table hot_{feed} as {rows}")
        else:
            new = f"new_{feed}"
            self._con.execute(f"create or replace temp table {new} as {rows}")
            if feed == "registrations":  # before the append: it asks who was seen before
                self._statements("update_sites", new, timings)
            self._con.execute(f"insert into hot_{feed} select * from {new}")
        self._loaded[feed] = want
        timings[f"hot_{feed}"] = time.perf_counter() - t0
        return changed, rebuilt

    def _load_registrations(self, want: set[str], residents_changed: bool, timings: dict) -> None:
        """一家亲 scans and everything built on them, brought up to the current batches (see _append_feed);
        the person-level tables also when the residents snapshot changed."""
        changed, rebuilt = self._append_feed("registrations", want, timings)
        if changed:
            self._update_scan_rollups(rebuilt, timings)
        if rebuilt or residents_changed:
            if rebuilt:
                self._build("hot_first_registrations", timings)
            elif changed:
                self._update_first_registrations("new_registrations", timings, rollups=False)
            self._build("roll_units", timings)
            self._build("roll_discovered", timings)
        elif changed:
            self._update_first_registrations("new_registrations", timings, rollups=True)

    def _update_scan_rollups(self, rebuilt: bool, timings: dict) -> None:
        """roll_scans (and roll_sites) after new scans: rebuilt from every scan when the scans were, else the
        new scans' counts appended (roll_sites was brought up to date by update_sites before the append)."""
        t0 = time.perf_counter()
        if rebuilt:
            scans = staging.render(self._hot_sql["roll_scans"], {"scans": "hot_registrations"})
            self._con.execute(f"create or replace table roll_scans as {scans}")
            self._build("roll_sites", timings)
        else:
            scans = staging.render(self._hot_sql["roll_scans"], {"scans": "new_registrations"})
            self._con.execute(f"insert into roll_scans {scans}")
        timings["roll_scans"] = time.perf_counter() - t0

    def _load_source_records(self, want: set[str], residents_changed: bool, timings: dict) -> None:
        """Department records brought up to the current batches (see _append_feed); their rollups rebuilt when
        the records or the residents changed."""
        changed, _ = self._append_feed("source_records", want, timings)
        if changed or residents_changed:
            self._build("roll_sources", timings)
            self._build("roll_source_names", timings)

    def _update_first_registrations(self, batch: str, timings: dict, rollups: bool) -> None:
        """Person-level first registrations (and, with ``rollups``, the rollups built on them) brought up to
        date with the new scans (the table ``batch``) only."""
        self._statements("update_first_registrations", batch, timings, skip=None if rollups else "roll_")

    def _statements(self, script: str, batch: str, timings: dict, skip: str | None = None) -> None:
        """Run a hot script of several statements over the new rows (the table ``batch``); with ``skip``,
        leave out the statements that name it (rollups rebuilt whole later in the same refresh)."""
        t0 = time.perf_counter()
        text = staging.render(self._hot_sql[script], {"batch": batch})
        statements = [part.strip() for part in text.split(";") if part.strip()]
        for statement in statements:
            if skip is None or skip not in statement:
                self._con.execute(statement)
        timings[script] = time.perf_counter() - t0

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._local.cursor = cursor
        return cursor

    # -- running -------------------------------------------------------------------------------------------
    def bind(self, name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The parameter dict a query is run with: checked against the header, missing ones NULL."""
        spec = self.spec(name)
        given = dict(params or {})
        unknown = sorted(set(given) - set(spec.params))
        if unknown:
            accepted = ", ".join(spec.params) or "无"
            raise QueryError(
                f"查询 {name} 不接受参数 {', '.join(unknown)}（可用参数：{accepted}）",
                f"undeclared parameter(s) {unknown} for query {name!r}",
            )
        bound = {key: _coerce(key, given.get(key)) for key in spec.params}
        if "now" in bound and bound["now"] is None:
            bound["now"] = clock.now()
        return bound

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        spec = self.spec(name)
        bound = self.bind(name, params)
        self.refresh()
        if "stg_" in spec.sql and not self._views_current:  # a query over the Parquet views themselves
            with self._lock:
                try:
                    staging.create_views(self._con, self.paths, self._views)
                except staging.OldWarehouse as error:
                    raise QueryError(str(error)) from error
                except staging.StagingError as error:
                    raise QueryError("数据视图建立失败，请联系运维人员", str(error)) from error
                self._views_current = True
        try:
            return self._cursor().execute(spec.sql, bound).df()
        except duckdb.Error as error:
            raise QueryError(f"查询 {name} 运行失败", f"{type(error).__name__}: {error}") from error


_DEFAULT: dict[Path, Runner] = {}
_DEFAULT_LOCK = threading.Lock()


def default_runner(paths: DataPaths | None = None) -> Runner:
    """The process-wide runner for a data directory (the dashboard's sessions share it)."""
    paths = paths or DataPaths.from_env()
    key = Path(paths.root).resolve()
    with _DEFAULT_LOCK:
        runner = _DEFAULT.get(key)
        if runner is None:
            runner = _DEFAULT[key] = Runner(DataPaths(key))
        return runner
