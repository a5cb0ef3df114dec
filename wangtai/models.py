"""The in-memory tables the metric queries read, as a declared model graph (DESIGN.md: "Rollups are
declared models", as dbt does with ``ref()`` and ``is_incremental()``).

Each file in ``queries/models/`` is one model — a table in the runner's DuckDB connection — or a few macros.
Its header says what it is and what it reads; the SQL after it is the *full form* (the whole table), and an
append model adds its *incremental form* after a ``-- @incremental`` line::

    -- model: roll_scans
    -- returns: registration scans per community, day, hour and channel
    -- grain: one row per community, day, hour and channel
    -- key: -
    -- reads: hot_registrations                 models and staging views it reads
    -- materialized: append                     snapshot: only ever rebuilt; append: kept up to date too
    -- incremental: insert                      append only: insert, upsert, update or add (below)
    select ... from hot_registrations ...

    -- @incremental: the new scans' counts
    select ... from new_hot_registrations ...

A macros file says ``-- macros: <file name>``, ``returns`` and ``reads``; its statements are run as it is.

The refresh order is computed from the ``reads`` (``Graph.order``); a cycle, or a read that names neither a
model nor a staging view, or SQL that reads something its header does not declare, is an error at load.

``Refresher.refresh`` brings the tables up to the warehouse when the data version changed. It compares
what each staging view holds with what it held at the last refresh — an increment feed's current batches,
a snapshot feed's current batch, the files of every other source — and walks the models in order:

- a model none of whose inputs changed is left alone;
- a model that is not built yet or one of whose inputs was rebuilt, and a snapshot model one of whose inputs
  gained rows, is rebuilt from its full form (and counts as rebuilt downstream);
- an append model whose inputs only gained rows runs its incremental form, which reads ``new_<input>``: the
  rows the input gained in this refresh (for an increment feed: its staging SQL over the new batches' files
  only) and, where rows were replaced, ``old_<input>``: those rows before; besides any input whole and the
  model itself. Its rows are then, as the header says:
  ``insert`` — added;
  ``upsert`` — they replace the rows with the same key (new keys are added);
  ``update`` — each (a key and some columns) sets those columns of the row with that key (keys the table does
  not hold are dropped);
  ``add`` — signed counts per key, added to the table's (a row whose counts all reach zero goes).
  The model offers its ``new_``/``old_`` rows (whole rows) to the models downstream; after ``add`` it counts
  as rebuilt. When no row changed, the models downstream are left alone, and after an ``update``, so are
  those whose SQL names none of the columns it set (and selects no ``*``).

Staging views are created in this connection over the same SQL as ``wangtai.staging``, bound here: a feed's
view over its current batches' files, the manifest and the quarantined rows over in-memory copies of their
append-only folders (each small file read once), the rest over their files.
"""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from wangtai import staging
from wangtai.contract import FEEDS
from wangtai.paths import DataPaths

MODELS_DIR = staging.QUERIES_DIR / "models"
MATERIALIZED = ("snapshot", "append")
INCREMENTAL = ("insert", "upsert", "update", "add")
# Append-only folders of small immutable files, copied into memory (raw_<source>), each new file read once.
MIRRORED = {"manifest": "*", "quarantined_rows": "filename, _row, _reasons"}
REBUILT, GREW = "rebuilt", "grew"  # how a relation changed in a refresh (None: not at all)
MANIFEST_VIEW = "stg_manifest"  # where the rule for a feed's current batches lives
MODEL_FIELDS = ("model", "returns", "grain", "key", "reads", "materialized")

_HEADER = re.compile(r"^--\s*(model|macros|returns|grain|key|reads|materialized|incremental)\s*:\s*(.*?)\s*$")
_INCREMENTAL_MARK = re.compile(r"^--\s*@incremental\b.*$", re.M)
_NOT_CODE = re.compile(r"--[^\n]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", re.S)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class ModelError(Exception):
    """A model file that cannot be used: an incomplete header, an unknown or undeclared read, a cycle.
    ``str(error)`` is a Chinese message followed by the English detail."""

    def __init__(self, message: str, detail: str = ""):
        self.message = message
        self.detail = detail
        super().__init__(f"{message}（{detail}）" if detail else message)


@dataclass(frozen=True)
class Model:
    name: str
    returns: str
    reads: tuple[str, ...]
    full: str  # the SQL of the full form (for macros: the statements)
    materialized: str = "snapshot"  # snapshot, append, or "macros" for a macros file
    incremental: str | None = None  # insert, upsert, update or add (append models)
    incremental_sql: str | None = None
    grain: str = ""
    key: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def is_macros(self) -> bool:
        return self.materialized == "macros"

    @property
    def label(self) -> str:
        """How the model is kept: snapshot, insert, upsert, update, add or macros."""
        return self.incremental or self.materialized

    def names_any(self, columns: set[str]) -> bool:
        """Whether the model's SQL may read any of these columns: it names one, or selects a star."""
        code = _code(f"{self.full}\n{self.incremental_sql or ''}").lower().replace("count(*)", "")
        return "*" in code or bool(_names_in(code) & columns)


def _code(sql: str) -> str:
    """The SQL without comments and string literals: what is left names relations."""
    return _NOT_CODE.sub(" ", sql)


def _names_in(sql: str) -> set[str]:
    return {name.lower() for name in _NAME.findall(_code(sql))}


def _without_comment_lines(sql: str) -> str:
    """The SQL to run: whole-line comments dropped (so that a form can be wrapped in parentheses)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";").strip()


def _header(text: str, where: str) -> dict[str, str]:
    """The leading comment block's fields; an indented ``--`` line continues the field above it."""
    fields: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = _HEADER.match(stripped)
        if match:
            last = match.group(1)
            if last in fields:
                raise ModelError("模型文件的说明头有重复字段", f"{where}: {last} given twice")
            fields[last] = match.group(2)
        elif last is not None and line.startswith("--   ") and stripped[2:].strip():
            fields[last] = f"{fields[last]} {stripped[2:].strip()}"
        else:
            last = None
    return fields


def _listed(value: str) -> tuple[str, ...]:
    """A comma-separated header list; "-" means none."""
    return tuple(part.strip() for part in value.split(",") if part.strip() not in ("", "-"))


def parse_model(text: str, path: Path | None = None) -> Model:
    """One model (or macros) file: its header checked for completeness and consistency. What it reads is
    checked against the other models later (``Graph``)."""
    where = path.name if path else "<text>"
    fields = _header(text, where)
    kind = "macros" if "macros" in fields else "model"
    need = ("macros", "returns", "reads") if kind == "macros" else MODEL_FIELDS
    missing = [name for name in need if not fields.get(name)]
    if missing or ("model" in fields and "macros" in fields):
        detail = f"header lacks {', '.join(missing)}" if missing else "both model and macros"
        raise ModelError("模型文件的说明头不完整", f"{where}: {detail}")
    name = fields[kind]
    if path is not None and name != path.stem:
        raise ModelError("模型文件名与说明头不一致", f"{where}: header says {kind} {name!r}")
    parts = _INCREMENTAL_MARK.split(text)
    if len(parts) > 2:
        raise ModelError("模型文件有多个增量部分", f"{where}: more than one -- @incremental")
    full = _without_comment_lines(parts[0])
    incremental_sql = _without_comment_lines(parts[1]) if len(parts) == 2 else None
    reads = _listed(fields["reads"])
    if kind == "macros":
        if incremental_sql is not None:
            raise ModelError("宏文件没有增量部分", f"{where}: macros have no -- @incremental")
        return Model(name, fields["returns"], reads, full, "macros", path=path)
    materialized, incremental = fields["materialized"], fields.get("incremental")
    key = _listed(fields["key"])
    if materialized not in MATERIALIZED:
        raise ModelError("模型的物化方式无效", f"{where}: materialized {materialized!r}, not {MATERIALIZED}")
    if materialized == "append" and (incremental not in INCREMENTAL or incremental_sql is None):
        raise ModelError(
            "追加模型须写明增量方式并有增量部分",
            f"{where}: an append model needs incremental: {'|'.join(INCREMENTAL)} and -- @incremental",
        )
    if materialized == "snapshot" and (incremental is not None or incremental_sql is not None):
        raise ModelError("快照模型没有增量部分", f"{where}: a snapshot model has no incremental form")
    if incremental in ("upsert", "update", "add") and not key:
        raise ModelError("按键合并的模型须声明键", f"{where}: incremental {incremental} needs a key")
    if not full:
        raise ModelError("模型文件没有 SQL", f"{where}: no full form")
    return Model(
        name, fields["returns"], reads, full, materialized, incremental, incremental_sql,
        fields["grain"], key, path,
    )  # fmt: skip


@dataclass(frozen=True)
class Graph:
    """The models in refresh order, and the staging views they are built from."""

    models: dict[str, Model]  # in refresh order
    staging: dict[str, str]  # staging view → its SQL (wangtai.staging)

    @property
    def order(self) -> list[Model]:
        return list(self.models.values())

    @property
    def views(self) -> list[str]:
        """The staging views the models read, in creation order."""
        read = {name for model in self.order for name in model.reads}
        return [view for view in self.staging if view in read]

    def placeholders(self, view: str) -> list[str]:
        return _PLACEHOLDER.findall(self.staging[view])

    def view_reads(self, view: str) -> list[str]:
        """The staging views a staging view reads (stg_residents reads stg_manifest for the current batch)."""
        names = _names_in(self.staging[view])
        return [other for other in self.staging if other != view and other in names]

    def feed(self, view: str) -> str | None:
        """The feed a staging view holds the rows of, if any."""
        return next((source for source in self.placeholders(view) if source in FEEDS), None)

    def grows(self, name: str) -> bool:
        """Whether a relation can gain rows without being rebuilt: an increment feed's view, or a model whose
        incremental form inserts, upserts or updates rows."""
        if name in self.models:
            return self.models[name].incremental in ("insert", "upsert", "update")
        feed = self.feed(name)
        return feed is not None and FEEDS[feed].kind == "increment"

    def relations_in(self, sql: str) -> set[str]:
        """The models and staging views a piece of SQL reads."""
        return _names_in(sql) & (set(self.models) | set(self.staging))

    def upstream(self, name: str) -> set[str]:
        """Everything a model is built from, transitively: models and staging views."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            reads = self.models[current].reads if current in self.models else self.view_reads(current)
            for read in reads:
                if read not in seen:
                    seen.add(read)
                    todo.append(read)
        return seen


def load_graph(models_dir: Path = MODELS_DIR, staging_dir: Path = staging.STAGING_DIR) -> Graph:
    """Every model file, checked against the others and the staging views, in refresh order."""
    found = {}
    for path in sorted(models_dir.glob("*.sql")):
        model = parse_model(path.read_text(encoding="utf-8"), path)
        found[model.name] = model
    return build_graph(found.values(), staging.staging_sql(staging_dir))


def build_graph(models: Iterable[Model], staging_sql: dict[str, str]) -> Graph:
    found = {model.name: model for model in models}
    overlap = sorted(set(found) & set(staging_sql))
    if overlap:
        raise ModelError("模型与数据视图同名", f"{', '.join(overlap)}: both a model and a staging view")
    unordered = Graph(found, staging_sql)
    for model in found.values():
        _check_reads(model, unordered)
    return Graph({name: found[name] for name in _topological(found)}, staging_sql)


def _check_reads(model: Model, graph: Graph) -> None:
    """Every read names a model or a staging view, and the SQL reads exactly what the header declares (the
    incremental form also the model itself, and the new_/old_ rows of what it reads: at least the new rows
    of every input that can gain rows)."""
    where = model.path.name if model.path else model.name
    known = set(graph.models) | set(graph.staging)
    unknown = sorted(set(model.reads) - known)
    if unknown:
        raise ModelError(
            "模型读取了不存在的模型或数据视图",
            f"{where}: reads {', '.join(unknown)}, which is neither a model nor a staging view",
        )
    declared = set(model.reads)
    forms = {"full form": model.full}
    if model.incremental_sql is not None:
        forms["incremental form"] = model.incremental_sql
    used: set[str] = set()
    for form, sql in forms.items():
        names = _names_in(sql)
        deltas = {name for name in names if name.startswith(("new_", "old_")) and name[4:] in known}
        relations = (names & known) | {name[4:] for name in deltas}
        allowed = declared | ({model.name} if form == "incremental form" else set())
        undeclared = sorted(relations - allowed)
        if undeclared:
            raise ModelError(
                "模型读取了说明头未声明的模型或数据视图",
                f"{where}: the {form} reads {', '.join(undeclared)}; declare it under reads",
            )
        if form == "full form" and deltas:
            raise ModelError(
                "完整形式不能读取新增行", f"{where}: the full form reads {', '.join(sorted(deltas))}"
            )
        missed = [name for name in model.reads if graph.grows(name) and f"new_{name}" not in deltas]
        if form == "incremental form" and missed:
            raise ModelError(
                "增量形式没有读取上游的新增行",
                f"{where}: the incremental form never reads new_{', new_'.join(missed)}",
            )
        used |= relations
    unread = sorted(declared - used - {model.name})
    if unread:
        raise ModelError(
            "说明头声明了未读取的模型或数据视图", f"{where}: declares {', '.join(unread)} but never reads it"
        )


def _topological(models: dict[str, Model]) -> list[str]:
    """Kahn's algorithm over the reads between models; ties in name order, except that macros reading
    nothing (used by every model) come first."""
    inputs = {name: {read for read in model.reads if read in models} for name, model in models.items()}
    readers: dict[str, list[str]] = {name: [] for name in models}
    for name, reads in inputs.items():
        for read in reads:
            readers[read].append(name)

    def rank(name: str) -> tuple[int, str]:
        return (0 if models[name].is_macros and not models[name].reads else 1, name)

    waiting = {name: len(reads) for name, reads in inputs.items()}
    ready = [rank(name) for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for reader in readers[name]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, rank(reader))
    if len(order) < len(models):
        cycle = _a_cycle({name: inputs[name] for name in models if name not in order})
        raise ModelError("模型之间有循环依赖", "cycle: " + " → ".join(cycle))
    return order


def _a_cycle(inputs: dict[str, set[str]]) -> list[str]:
    """One cycle among models that all wait on each other (every one of them reads another)."""
    path: list[str] = []
    name = min(inputs)
    while name not in path:
        path.append(name)
        name = min(read for read in inputs[name] if read in inputs)
    return [*path[path.index(name) :], name]


# -- the diagram -------------------------------------------------------------------------------------------


def mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart: staging views as cylinders (a dotted arrow: a view that reads
    another), snapshot models as boxes, append models as rounded boxes with how their new rows are applied,
    macros as hexagons."""
    views = [view for view in graph.staging if view in graph.views or view in _upstream_views(graph)]
    lines = ["flowchart LR"]
    for view in views:
        lines.append(f'    {view}[("{view}")]')
    for model in graph.order:
        if model.is_macros:
            lines.append(f'    {model.name}{{{{"{model.name}"}}}}')
        elif model.materialized == "snapshot":
            lines.append(f'    {model.name}["{model.name}"]')
        else:
            lines.append(f'    {model.name}(["{model.name} · {model.incremental}"])')
    for view in views:
        lines += [f"    {other} -.-> {view}" for other in graph.view_reads(view)]
    for model in graph.order:
        lines += [f"    {read} --> {model.name}" for read in model.reads]
    return "\n".join(lines) + "\n"


def _upstream_views(graph: Graph) -> set[str]:
    return {other for view in graph.views for other in graph.upstream(view)}


def describe(graph: Graph) -> str:
    """The refresh order, one model a line: name, how it is kept, what it reads."""
    width = max(len(model.name) for model in graph.order)
    return (
        "\n".join(
            f"{model.name:<{width}}  {model.label:<8}  ← {', '.join(model.reads) or '-'}"
            for model in graph.order
        )
        + "\n"
    )


# -- the refresh -------------------------------------------------------------------------------------------


@dataclass
class Refresh:
    """What one refresh did: each model run, "full" or "incremental", and the seconds of each step."""

    actions: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


_MISSING = object()


def _on(model: Model, table: str, other: str) -> str:
    """The join of a model's table with another on the model's key."""
    return " and ".join(f"{table}.{key} = {other}.{key}" for key in model.key)


def _count(con: duckdb.DuckDBPyConnection, statement: str) -> int:
    """Run a statement that writes rows (create table as, insert, delete); how many it wrote."""
    return int(con.execute(statement).fetchone()[0])


class Refresher:
    """Keeps the models of one DuckDB connection up to the warehouse. Not thread-safe: the runner holds
    its lock around ``refresh`` and ``ensure_views``."""

    def __init__(self, graph: Graph, paths: DataPaths):
        self.graph = graph
        self.paths = paths
        self.forget()

    def forget(self) -> None:
        """Rebuild everything at the next refresh (after a failure: the transaction was rolled back)."""
        self._built: set[str] = set()  # models and macros that exist in the connection
        self._seen: dict[str, object] = {}  # staging view → what it held when the models last read it
        self._views: dict[str, str] = {}  # staging view → the SQL it was created with
        self._mirrored: dict[str, frozenset[Path]] = {}  # mirrored source → files copied into raw_<source>
        self._batches: dict[str, frozenset[str]] = {}  # feed → its current batches
        self._new_batches: dict[str, frozenset[str]] = {}  # increment feed view → batches new in this refresh
        self._other: dict[str, str] | None = None  # relations of the other sources (files), once per refresh
        self._deltas: set[str] = set()  # new_/old_ temporary tables (and views) made in this refresh
        self._described: dict[str, list[tuple[str, str]]] = {}  # model → its columns and types
        self._updated: dict[str, set[str]] = {}  # model updated in this refresh → the columns it set

    def refresh(self, con: duckdb.DuckDBPyConnection) -> Refresh:
        """Bring every model up to the warehouse now, in one transaction: readers never see a half state."""
        done = Refresh()
        con.execute("begin transaction")
        try:
            self._refresh(con, done)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            self.forget()
            raise
        return done

    def ensure_views(self, con: duckdb.DuckDBPyConnection, views: Iterable[str]) -> None:
        """The given staging views current in the connection (for queries that read them directly)."""
        for view in views:
            self._ensure_view(con, view)

    def _refresh(self, con: duckdb.DuckDBPyConnection, done: Refresh) -> None:
        files = staging.source_files(self.paths)
        self._other, self._new_batches, self._updated = None, {}, {}
        for source, columns in MIRRORED.items():
            self._mirror(con, source, columns, files.get(source, ()), done)
        self._ensure_view(con, MANIFEST_VIEW)
        current = con.execute(f"select feed, batch_id from {MANIFEST_VIEW} where is_current").fetchall()
        batches: dict[str, set[str]] = {}
        for feed, batch_id in current:
            batches.setdefault(feed, set()).add(batch_id)
        self._batches = {feed: frozenset(ids) for feed, ids in batches.items()}
        holds = {view: self._holds(view, files) for view in self.graph.views}
        changes: dict[str, str | None] = {view: self._change(view, holds[view]) for view in holds}
        for model in self.graph.order:
            inputs = [self._change_for(model, name, changes.get(name)) for name in model.reads]
            rebuild = model.name not in self._built or REBUILT in inputs
            if not rebuild and GREW not in inputs:
                continue
            t0 = time.perf_counter()
            if rebuild or model.materialized != "append":
                self._build(con, model)
                changes[model.name], done.actions[model.name] = REBUILT, "full"
            else:
                changes[model.name], done.actions[model.name] = self._increment(con, model), "incremental"
            done.seconds[model.name] = time.perf_counter() - t0
        # the new_/old_ rows stay (small) until the next refresh replaces them; only those made in a
        # refresh are ever read in it
        self._deltas.clear()
        self._seen = holds

    def _change_for(self, model: Model, name: str, change: str | None) -> str | None:
        """How an input changed, as the model sees it: an input updated in columns the model never reads
        did not change for it."""
        if change == GREW and name in self._updated and not model.names_any(self._updated[name]):
            return None
        return change

    # -- sources ------------------------------------------------------------------------------------------

    def _mirror(self, con, source: str, columns: str, files: Iterable[Path], done: Refresh) -> None:
        """raw_<source>: the rows of an append-only folder in memory, each new file read once; emptied and
        read again when a file went away (compaction merged it into a segment)."""
        want, have = frozenset(files), self._mirrored.get(source)
        raw = f"raw_{source}"
        t0 = time.perf_counter()
        if have is None or not have <= want:
            empty = staging.file_relation([], source)
            con.execute(f"create or replace table {raw} as select {columns} from {empty}")
            have = frozenset()
        new = sorted(want - have)
        if new:
            relation = staging.file_relation(new, source, filename=source == "quarantined_rows")
            con.execute(f"insert into {raw} by name select {columns} from {relation}")
            done.seconds[raw] = time.perf_counter() - t0
        self._mirrored[source] = want

    def _holds(self, view: str, files: dict[str, tuple[Path, ...]]) -> object:
        """What a staging view holds now, comparable with what it held before: a feed's view, the set of its
        current batches (its SQL keeps the current ones; its files are immutable); any other view, the files
        behind it (name, modification time, size) and what the views it reads hold."""
        feed = self.graph.feed(view)
        if feed is not None:
            return self._batches.get(feed, frozenset())
        stats = []
        for source in self.graph.placeholders(view):  # provinces: a file of the package, never changes
            for path in files.get(source, ()):
                try:
                    stat = path.stat()
                    stats.append((str(path), stat.st_mtime_ns, stat.st_size))
                except FileNotFoundError:
                    stats.append((str(path), None, None))
        upstream = tuple(self._holds(other, files) for other in self.graph.view_reads(view))
        return (tuple(stats), upstream)

    def _change(self, view: str, holds: object) -> str | None:
        before = self._seen.get(view, _MISSING)
        if before == holds:
            return None
        if self.graph.grows(view) and before is not _MISSING and before <= holds:  # type: ignore[operator]
            self._new_batches[view] = holds - before  # type: ignore[operator]
            return GREW
        return REBUILT

    def _relations(self, view: str, batches: Iterable[str] | None = None) -> dict[str, str]:
        """What a staging view's placeholders stand for: a feed's current batches (or ``batches``), an
        in-memory copy, or the source's files."""
        relations = {}
        for source in self.graph.placeholders(view):
            if source in MIRRORED:
                relations[source] = f"raw_{source}"
            elif source in FEEDS:
                wanted = self._batches.get(source, frozenset()) if batches is None else batches
                relations[source] = staging.batch_relation(self.paths, source, wanted)
            else:
                if self._other is None:
                    self._other = staging.source_relations(self.paths)
                relations[source] = self._other[source]
        return relations

    def _ensure_view(self, con, view: str) -> None:
        for other in self.graph.view_reads(view):  # DuckDB binds a view when it is created
            self._ensure_view(con, other)
        body = staging.render(self.graph.staging[view], self._relations(view)).strip().rstrip(";")
        if self._views.get(view) == body:
            return
        try:
            con.execute(f"create or replace view {view} as\n{body}")
        except duckdb.Error as error:
            raise staging.StagingError(
                f"无法建立数据视图 {view} (cannot create staging view): {error}"
            ) from error
        self._views[view] = body

    # -- models -------------------------------------------------------------------------------------------

    def _build(self, con, model: Model) -> None:
        """The full form: the macros created, or the table (re)created whole."""
        for view in model.reads:
            if view in self.graph.staging:
                self._ensure_view(con, view)
        if model.is_macros:
            con.execute(model.full)
        else:
            con.execute(f"create or replace table {model.name} as\n{model.full}\n")
            self._described.pop(model.name, None)
            self._described.pop(f"sets_{model.name}", None)
        self._built.add(model.name)

    def _increment(self, con, model: Model) -> str | None:
        """The incremental form run over the new rows and applied. Returns how the model changed (None:
        not at all)."""
        for name in sorted(_names_in(model.incremental_sql or "")):
            if name.startswith(("new_", "old_")) and name[4:] in model.reads:
                self._ensure_delta(con, name)
        name, new = model.name, f"new_{model.name}"
        rows = model.incremental_sql
        if model.incremental == "add":
            rows = self._netted(con, model, rows)
        if model.incremental == "update":
            return self._update(con, model, rows)
        self._deltas.add(new)
        if not _count(con, f"create or replace temp table {new} as\n{rows}\n"):
            return None
        if model.incremental == "upsert" and self._replaced(con, model, new):
            con.execute(f"delete from {name} where rowid in (select row_id from hits_{name})")
        if model.incremental in ("insert", "upsert"):
            con.execute(f"insert into {name} by name select * from {new}")
        else:
            con.execute(f"create or replace table {name} as\n{self._summed(con, model)}")
            return REBUILT
        return GREW

    def _update(self, con, model: Model, rows: str) -> str | None:
        """The incremental form's rows (a key and the columns to set) set those columns of the rows with
        the same key; keys the table does not hold are left out. new_/old_<model>: the whole rows after
        and before."""
        name, sets = model.name, f"sets_{model.name}"
        self._deltas.add(sets)
        if not _count(con, f"create or replace temp table {sets} as\n{rows}\n"):
            return None
        if not self._replaced(con, model, sets):
            return None
        columns = [column for column, _ in self._columns(con, model, sets) if column not in model.key]
        keys = ", ".join(model.key)
        values = f"select hits_{name}.row_id, {sets}.* from hits_{name} join {sets} using ({keys})"
        assignments = ", ".join(f"{column} = changed.{column}" for column in columns)
        con.execute(
            f"update {name} set {assignments} from ({values}) as changed where {name}.rowid = changed.row_id"
        )
        replace = ", ".join(f"{sets}.{column} as {column}" for column in columns)
        self._deltas.add(f"new_{name}")
        con.execute(
            f"create or replace temp table new_{name} as select old_{name}.* replace ({replace}) "
            f"from old_{name} join {sets} using ({keys})"
        )
        self._updated[name] = set(columns)
        return GREW

    def _replaced(self, con, model: Model, rows: str) -> int:
        """old_<model>: the table's rows with the key of one of ``rows``, found by their keys alone and then
        read whole by row id (reading every column of every row is what costs), and hits_<model>: their row
        ids. Returns how many."""
        name = model.name
        self._deltas |= {f"hits_{name}", f"old_{name}"}
        keys = ", ".join(f"{name}.{key}" for key in model.key)
        hits = (
            f"select {name}.rowid as row_id, {keys} from {name} semi join {rows} on {_on(model, name, rows)}"
        )
        found = _count(con, f"create or replace temp table hits_{name} as {hits}")
        replaced = f"select * from {name} where rowid in (select row_id from hits_{name})"
        con.execute(f"create or replace temp table old_{name} as {replaced}")
        return found

    def _ensure_delta(self, con, table: str) -> None:
        """new_<x> or old_<x> for an input of the model being run: made where the input changed; otherwise
        empty (an input that did not gain rows, or whose rows were not replaced)."""
        if table in self._deltas:
            return
        kind, source = table[:3], table[4:]
        if source in self.graph.staging:  # a view: the new batches' files are read where it is read
            batches = self._new_batches.get(source, frozenset()) if kind == "new" else ()
            for other in self.graph.view_reads(source):
                self._ensure_view(con, other)
            rows = staging.render(self.graph.staging[source], self._relations(source, batches))
            con.execute(f"create or replace temp view {table} as\n{rows.strip().rstrip(';')}\n")
        else:
            con.execute(f"create or replace temp table {table} as select * from {source} limit 0")
        self._deltas.add(table)

    def _columns(self, con, model: Model, table: str | None = None) -> list[tuple[str, str]]:
        """The columns and types of a model's table (or of another table its refresh makes), described once:
        a full build makes them, adding counts or setting columns keeps them."""
        table = table or model.name
        if table not in self._described:
            self._described[table] = [(row[0], row[1]) for row in con.execute(f"describe {table}").fetchall()]
        return self._described[table]

    def _measures(self, con, model: Model) -> list[str]:
        """The counts of an ``add`` model: every column but the key."""
        return [column for column, _ in self._columns(con, model) if column not in model.key]

    def _netted(self, con, model: Model, rows: str) -> str:
        """The incremental form's signed counts summed per key, keys whose counts all net to zero left out."""
        measures = self._measures(con, model)
        keys = ", ".join(model.key)
        sums = ", ".join(f"sum({column}) as {column}" for column in measures)
        zero = " and ".join(f"sum({column}) = 0" for column in measures)
        return f"select {keys}, {sums}\nfrom (\n{rows}\n)\ngroup by {keys}\nhaving not ({zero})"

    def _summed(self, con, model: Model) -> str:
        """The table with the new counts added, in its own columns and types; rows netting to zero go."""
        columns, measures = self._columns(con, model), self._measures(con, model)
        names = ", ".join(column for column, _ in columns)
        select = ", ".join(
            column if column in model.key else f"cast(sum({column}) as {kind}) as {column}"
            for column, kind in columns
        )
        zero = " and ".join(f"sum({column}) = 0" for column in measures)
        return (
            f"select {select}\nfrom (select {names} from {model.name} "
            f"union all select {names} from new_{model.name})\n"
            f"group by {', '.join(model.key)}\nhaving not ({zero})"
        )
