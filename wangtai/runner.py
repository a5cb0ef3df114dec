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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from wangtai import clock, models, staging
from wangtai.paths import DataPaths

QUERIES_DIR = staging.QUERIES_DIR
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
    """Runs the named queries on one DuckDB connection (a cursor per thread), over the in-memory tables of the
    model graph (``wangtai.models``), which it brings up to date whenever the data version changes."""

    def __init__(
        self, paths: DataPaths, queries_dir: Path = QUERIES_DIR, models_dir: Path = models.MODELS_DIR
    ):
        self.paths = paths
        self.queries_dir = queries_dir
        self._specs = load_queries(queries_dir)
        try:
            self._models = models.Refresher(models.load_graph(models_dir), paths)
        except models.ModelError as error:
            raise QueryError("内存表模型定义有误，请联系运维人员", str(error)) from error
        self._con = duckdb.connect(":memory:")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._version: str | None = None
        self.last_refresh = models.Refresh()  # what the last refresh did and how long each step took

    # -- the catalogue ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._specs)

    def spec(self, name: str) -> QuerySpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(self.names())
            raise QueryError(f"没有名为 {name} 的查询", f"unknown query {name!r}; known: {known}") from None

    @property
    def graph(self) -> models.Graph:
        """The declared models the queries read (``wangtai.models``)."""
        return self._models.graph

    def reads(self, name: str) -> set[str]:
        """The models and staging views a query reads."""
        return self._models.graph.relations_in(self.spec(name).sql)

    # -- data version and the in-memory tables ---------------------------------------------------------
    def data_version(self) -> str:
        return staging.data_version(self.paths)

    def refresh(self) -> bool:
        """Bring the in-memory tables up to the warehouse now; True when something had changed.

        A server calls this from its background thread as soon as a batch lands (``wangtai.live_ingest``), so
        that pages find the tables current; a query calls it too, in case it comes first."""
        version = self.data_version()
        if version == self._version:
            return False
        with self._lock:
            if version == self._version:
                return False
            with _as_query_errors("数据载入内存失败，请联系运维人员"):
                self.last_refresh = self._models.refresh(self._con)
            self._version = version
            return True

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
        views = self.reads(name) & set(self._models.graph.staging)
        if views:  # a query over the staging views themselves (ad hoc): made current with the data
            with self._lock, _as_query_errors("数据视图建立失败，请联系运维人员"):
                self._models.ensure_views(self._con, views)
        try:
            return self._cursor().execute(spec.sql, bound).df()
        except duckdb.Error as error:
            raise QueryError(f"查询 {name} 运行失败", f"{type(error).__name__}: {error}") from error


@contextmanager
def _as_query_errors(database_message: str) -> Iterator[None]:
    """Staging and database failures as QueryError: an old warehouse with its own message, the rest with
    ``database_message`` and the detail."""
    try:
        yield
    except staging.OldWarehouse as error:
        raise QueryError(str(error)) from error
    except staging.StagingError as error:
        raise QueryError("数据视图建立失败，请联系运维人员", str(error)) from error
    except duckdb.Error as error:
        raise QueryError(database_message, f"{type(error).__name__}: {error}") from error


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
