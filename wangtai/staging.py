"""The staging views: DuckDB views over the warehouse, and the only code that knows file paths.

Each view is one file ``queries/staging/<view>.sql``. A view's SQL reads its files through a placeholder,
``{{ residents }}``, which becomes ``read_parquet([...])`` over the files present when the views are built
(paths are the one thing formatted into SQL, as escaped string literals) or, when there are none yet, an
empty relation with the right columns. The views are rebuilt whenever ``data_version`` changes.
"""

import os
from collections.abc import Iterable
from pathlib import Path

import duckdb

from wangtai.contract import REMOVED_COLUMNS, TABLES, sql_columns
from wangtai.paths import FEEDS, DataPaths
from wangtai.warehouse import batch_range, is_segment, live_files, parquet_files

REPO = Path(__file__).resolve().parent.parent
QUERIES_DIR = REPO / "queries"
STAGING_DIR = QUERIES_DIR / "staging"
PROVINCES_CSV = Path(__file__).resolve().parent / "provinces.csv"

# Views that others depend on come first; the rest follow in name order.
FIRST = ("stg_decisions", "stg_manifest")

# The columns of every source, for the empty relation of a source with no files yet (docs/architecture.md):
# the warehouse tables' from the contract, plus the two sources that are not warehouse tables.
SOURCE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    **{table: sql_columns(table) for table in (*FEEDS, *TABLES)},
    "quarantined_rows": (("filename", "varchar"), ("_row", "bigint"), ("_reasons", "varchar")),
    "provinces": (("province_code", "varchar"), ("province_name", "varchar")),
}


class StagingError(RuntimeError):
    """A staging view could not be built (a bad file path or a broken staging SQL file)."""


class OldWarehouse(StagingError):
    """The warehouse still holds a field the current layout removed (a residents file with ``birth_date``, a
    registrations file with ``id_masked``): nothing is read from it until ``wangtai migrate`` has rewritten
    it. Its message tells the operator so."""


_LAYOUT_CHECKED: dict[tuple[str, int, int], bool] = {}  # (path, mtime, size) → holds a removed field


def check_layout(files: dict[str, list[Path]]) -> None:
    """Refuse a warehouse in an old layout (wangtai.ingest.migrate): reading it would show figures built on
    fields that must not exist (and miss the ones that replaced them). Each file's footer is read once."""
    from wangtai.ingest.migrate import MIGRATE_HINT, removed_columns_in

    for feed in REMOVED_COLUMNS:
        for path in files.get(feed, ()):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            key = (str(path), stat.st_mtime_ns, stat.st_size)
            if key not in _LAYOUT_CHECKED:
                _LAYOUT_CHECKED[key] = bool(removed_columns_in(path))
            if _LAYOUT_CHECKED[key]:
                raise OldWarehouse(MIGRATE_HINT)


def data_version(paths: DataPaths) -> str:
    """A cheap fingerprint of what the warehouse holds: mtimes (and entry counts) of the folders a new batch,
    a decision or new reference data is renamed into. Equal strings mean the same data."""
    parts = []
    wh = paths.warehouse
    for folder in (wh / "manifest", wh / "decisions", wh / "reference"):
        try:
            stat = folder.stat()
            count = sum(1 for _ in os.scandir(folder))
            parts.append(f"{stat.st_mtime_ns}.{count}")
        except FileNotFoundError:
            parts.append("-")
    return "/".join(parts)


def sql_string(value: str) -> str:
    """A SQL string literal: single quotes doubled. Paths are the only values formatted into SQL."""
    return "'" + value.replace("'", "''") + "'"


def _source_files(paths: DataPaths) -> dict[str, list[Path]]:
    wh = paths.warehouse
    files = {feed: live_files(wh / feed) for feed in FEEDS}
    files["manifest"] = live_files(wh / "manifest")
    files["decisions"] = parquet_files(wh / "decisions")
    # quarantine/<feed>/<batch_id>__<file name> is a refused whole file, kept as it arrived: not rows
    files["quarantined_rows"] = [
        f for feed in FEEDS for f in parquet_files(paths.quarantine / feed) if "__" not in f.name
    ]
    for name in ("communities", "units", "boundaries", "campaign"):
        path = wh / "reference" / f"{name}.parquet"
        files[f"ref_{name}"] = [path] if path.is_file() else []
    check_layout(files)
    return files


def _empty_relation(source: str) -> str:
    columns = ", ".join(f'cast(null as {kind}) as "{name}"' for name, kind in SOURCE_COLUMNS[source])
    return f"(select {columns} limit 0)"


def _file_list(files: Iterable[Path]) -> str:
    literals = []
    for path in files:
        text = str(path)
        if any(ch in text for ch in "*?[]{}"):
            # read_parquet treats these as glob patterns; there is no escaping them.
            raise StagingError(f"数据文件路径含有通配符，无法读取 (path contains glob characters): {text}")
        literals.append(sql_string(text))
    return "[" + ", ".join(literals) + "]"


def source_relations(paths: DataPaths) -> dict[str, str]:
    """The table expression each placeholder stands for, given the files present now."""
    relations = {}
    for source, files in _source_files(paths).items():
        if not files:
            relations[source] = _empty_relation(source)
        elif source == "quarantined_rows":
            relations[source] = f"read_parquet({_file_list(files)}, union_by_name = true, filename = true)"
        else:
            relations[source] = f"read_parquet({_file_list(files)}, union_by_name = true)"
    relations["provinces"] = (
        f"read_csv({_file_list([PROVINCES_CSV])}, header = true, all_varchar = true)"
        if PROVINCES_CSV.is_file()
        else _empty_relation("provinces")
    )
    return relations


def staging_sql(staging_dir: Path = STAGING_DIR) -> dict[str, str]:
    """The staging views' SQL by view name, in creation order."""
    found = {path.stem: path.read_text(encoding="utf-8") for path in sorted(staging_dir.glob("stg_*.sql"))}
    order = [name for name in FIRST if name in found] + [name for name in found if name not in FIRST]
    return {name: found[name] for name in order}


def render(sql: str, relations: dict[str, str]) -> str:
    import re

    def substitute(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in relations:
            raise StagingError(f"未知的数据源占位符 (unknown source placeholder): {{{{ {name} }}}}")
        return relations[name]

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", substitute, sql)


def create_views(
    con: duckdb.DuckDBPyConnection,
    paths: DataPaths,
    created: dict[str, str] | None = None,
    only: Iterable[str] | None = None,
) -> list[str]:
    """(Re)create every staging view on the connection from the files present now. Returns the view names.

    With ``created`` (view name → SQL last created, kept by the caller), a view whose SQL has not changed is
    left alone: binding a view over many Parquet files reads every file's schema, which is not free. With
    ``only``, just those views are brought up to date (the others keep their earlier, still valid file
    lists: warehouse files are immutable and never deleted)."""
    relations = source_relations(paths)
    wanted = None if only is None else set(only)
    names = []
    for name, sql in staging_sql().items():
        names.append(name)
        if wanted is not None and name not in wanted and (created is None or name in created):
            continue
        body = render(sql, relations).strip().rstrip(";")
        if created is not None and created.get(name) == body:
            continue
        try:
            con.execute(f"create or replace view {name} as\n{body}")
        except duckdb.Error as error:
            raise StagingError(f"无法建立数据视图 {name} (cannot create staging view): {error}") from error
        if created is not None:
            created[name] = body
    return names


def file_relation(files: Iterable[Path], source: str, filename: bool = False) -> str:
    """read_parquet over the given files of a source (an empty relation when there are none)."""
    files = list(files)
    if not files:
        return _empty_relation(source)
    extra = ", filename = true" if filename else ""
    return f"read_parquet({_file_list(files)}, union_by_name = true{extra})"


def batch_relation(paths: DataPaths, feed: str, batch_ids: Iterable[str]) -> str:
    """The table expression over the rows of some batches of a feed, for the runner's in-memory tables,
    which append only the batches they have not read yet. A batch is read from its own file
    (<feed>/<batch_id>.parquet) or, once compacted, from the segment holding it (wangtai.warehouse), filtered
    to the batches asked for (batch ids, like paths, are ingest's own names: escaped literals)."""
    wanted = sorted(set(batch_ids))
    live = live_files(paths.warehouse / feed)
    own = {batch_range(path)[0]: path for path in live if not is_segment(path)}
    parts = []
    files = [own[batch_id] for batch_id in wanted if batch_id in own]
    if files:
        parts.append(f"select * from read_parquet({_file_list(files)}, union_by_name = true)")
    rest = [batch_id for batch_id in wanted if batch_id not in own]
    segments = [p for p in live if is_segment(p) and any(_holds(p, batch_id) for batch_id in rest)]
    if segments:
        ids = ", ".join(sql_string(batch_id) for batch_id in rest)
        parts.append(
            f"select * from read_parquet({_file_list(segments)}, union_by_name = true) "
            f"where batch_id in ({ids})"
        )
    if not parts:
        return _empty_relation(feed)
    return "(" + " union all by name ".join(parts) + ")"


def _holds(segment: Path, batch_id: str) -> bool:
    first, last = batch_range(segment)
    return first <= batch_id <= last


def source_files(paths: DataPaths) -> dict[str, tuple[Path, ...]]:
    """The files behind each source now: equal tuples mean a source needs no reloading."""
    return {source: tuple(files) for source, files in _source_files(paths).items()}
