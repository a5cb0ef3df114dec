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
        """Bring the in-memory hot tables up to the warehouse, reloading only what changed: reference tables
        when reference data changed; manifest and quarantine files read once each (append-only folders); a
        snapshot only when its current batch changed; increment feeds by appending new batches; person-level
        flags when registrations changed. One transaction: readers never see a half state."""
        import time

        con, timings = self._con, {}
        loaded = self._loaded
        reference = version.split("/")[-1]
        staging_sql = staging.staging_sql()
        con.execute("begin transaction")
        try:
            con.execute(self._hot_sql["macros"])
            if loaded.get("reference") != reference:
                loaded.clear()  # units changed: scans' communities may have too
                loaded["reference"] = reference
                for name in SMALL:
                    t0 = time.perf_counter()
                    con.execute(f"create or replace table hot_{name} as select * from stg_{name}")
                    timings[name] = time.perf_counter() - t0
                con.execute(self._hot_sql["scope_macros"])
            for source, columns in APPEND_ONLY.items():
                t0 = time.perf_counter()
                want, have = set(files.get(source, ())), loaded.get(source)
                raw = f"hot_raw_{source}"
                fresh = have is None or not have <= want
                if fresh:
                    empty = staging.file_relation([], source)
                    con.execute(f"create or replace table {raw} as select {columns} from {empty}")
                    have = set()
                new = sorted(want - have)
                if new:
                    relation = staging.file_relation(new, source, filename=source == "quarantined_rows")
                    con.execute(f"insert into {raw} by name select {columns} from {relation}")
                loaded[source] = want
                if new or fresh or source == "manifest":  # the manifest also depends on decisions
                    sql = staging.render(staging_sql[f"stg_{source}"], {source: raw}).strip().rstrip(";")
                    con.execute(f"create or replace table hot_{source} as {sql}")
                    timings[source] = time.perf_counter() - t0
            batches: dict[str, list[str]] = {}
            current = con.execute("select feed, batch_id from hot_manifest where is_current").fetchall()
            for feed, batch_id in current:
                batches.setdefault(feed, []).append(batch_id)

            def build(table: str, sql: str | None = None) -> None:
                t0 = time.perf_counter()
                con.execute(f"create or replace table {table} as {sql or self._hot_sql[table]}")
                timings[table] = time.perf_counter() - t0

            residents = tuple(sorted(batches.get("residents", [])))
            residents_changed = loaded.get("residents") != residents
            houses = tuple(sorted(batches.get("houses", [])))
            have_scans = loaded.get("registrations")
            scans_rebuilt = have_scans is None or not have_scans <= set(batches.get("registrations", []))
            if residents_changed or loaded.get("houses") != houses or scans_rebuilt:
                staging.create_views(con, self.paths, self._views, only=SNAPSHOT_SOURCES)
            if residents_changed:
                for table in ("hot_residents", "roll_cells"):
                    build(table)
                loaded["residents"] = residents
            if loaded.get("houses") != houses:
                build("roll_houses")
                loaded["houses"] = houses

            for feed in ("registrations", "source_records"):
                want, have = set(batches.get(feed, [])), loaded.get(feed)
                changed = have is None or have != want
                rebuilt = have is None or not have <= want  # first load, or a batch went away
                new = f"new_{feed}"  # the new batches' rows, read from their files once
                if changed:
                    t0 = time.perf_counter()
                    read = want if rebuilt else want - have  # new increment batches: only their files
                    rows = staging.render(
                        self._hot_sql[f"hot_{feed}"],
                        {"batch": staging.batch_relation(self.paths, feed, read)},
                    )
                    if rebuilt:
                        con.execute(f"create or replace table hot_{feed} as {rows}")
                    else:
                        con.execute(f"create or replace temp table {new} as {rows}")
                        if feed == "registrations":  # before the append: it asks who was seen before
                            self._statements("update_sites", new, timings)
                        con.execute(f"insert into hot_{feed} select * from {new}")
                    loaded[feed] = want
                    timings[f"hot_{feed}"] = time.perf_counter() - t0
                if feed == "registrations" and changed:
                    t0 = time.perf_counter()
                    if rebuilt:
                        scans = staging.render(self._hot_sql["roll_scans"], {"scans": "hot_registrations"})
                        con.execute(f"create or replace table roll_scans as {scans}")
                        build("roll_sites")
                    else:
                        scans = staging.render(self._hot_sql["roll_scans"], {"scans": new})
                        con.execute(f"insert into roll_scans {scans}")
                    timings["roll_scans"] = time.perf_counter() - t0
                if feed == "registrations":
                    if rebuilt or residents_changed:
                        if rebuilt:
                            build("hot_first_registrations")
                        elif changed:
                            self._update_first_registrations(new, timings, rollups=False)
                        build("roll_units")
                        build("roll_discovered")
                    elif changed:
                        self._update_first_registrations(new, timings, rollups=True)
                elif changed or residents_changed:
                    build("roll_sources")
                    build("roll_source_names")
            # the newcomers carry their registered flag: built once the first registrations are current
            if residents_changed or scans_rebuilt:
                for table in ("hot_newcomers", "roll_composition", "roll_birth_dates"):
                    build(table)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            loaded.clear()
            raise
        self.last_refresh = timings

    def _update_first_registrations(self, batch: str, timings: dict, rollups: bool) -> None:
        """Person-level first registrations (and, with ``rollups``, the rollups built on them) brought up to
        date with the new scans (the table ``batch``) only."""
        self._statements("update_first_registrations", batch, timings, skip=None if rollups else "roll_")

    def _statements(self, script: str, batch: str, timings: dict, skip: str | None = None) -> None:
        """Run a hot script of several statements over the new rows (the table ``batch``); with ``skip``,
        leave out the statements that name it (rollups rebuilt whole later in the same refresh)."""
        import time

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
