"""Reading the files departments and clerks send: Parquet, Excel (.xlsx, .xls) and CSV, with Chinese headers.

The one entry point::

    open_feed_file(path, feed, names=None) -> FeedFile

``FeedFile`` (wangtai/ingest/readers/feedfile.py) says how the file was read — ``format``, ``mapping``
(contract column → the header as written), ``sheet``, ``header_rows``, ``encoding``, ``delimiter``,
``notes``, ``describe()`` — and either ``refusal`` (a ``Refusal``: the Chinese reason and what to do;
``unreadable`` when the bytes could not be parsed, perhaps because the file is still being written) or
``num_rows`` (rows with data) and ``batches()``: ``ReadBatch``es of the contract's columns, each row with
its number in the sheet and the reader's own row problems. ``merge_problems(checked, read_batch)`` adds
those problems to ``validate.check_rows``' result.

``unsupported_reason(name)`` says, by the file's name alone, why a file cannot be read at all (None when
it can); ``is_temporary(name)`` which names are never to be touched (``~$`` Excel lock files and the like).
``load_header_names(paths.reference)`` loads the accepted column names once per run.
"""

from __future__ import annotations

from pathlib import Path

from wangtai.contract import FEEDS, Feed
from wangtai.ingest.readers.feedfile import FeedFile, ReadBatch, Refusal, merge_problems, refused
from wangtai.ingest.readers.header_row import recognise
from wangtai.ingest.readers.headers import HeaderNames, builtin_names, load_header_names
from wangtai.ingest.readers.kinds import (
    FORMAT_LABELS,
    SAVE_AS,
    SUPPORTED,
    is_temporary,
    sniff,
    supported_suffixes,
    unsupported_reason,
)

__all__ = [
    "FeedFile",
    "HeaderNames",
    "ReadBatch",
    "Refusal",
    "is_temporary",
    "load_header_names",
    "merge_problems",
    "open_feed_file",
    "recognise_feed",
    "supported_suffixes",
    "unsupported_reason",
]


def open_feed_file(
    path: str | Path, feed: str | Feed, names: HeaderNames | None = None, name: str | None = None
) -> FeedFile:
    """Open one inbox file for a feed. Never raises for what is in the file: a file that cannot be taken
    comes back with ``refusal`` set. ``names``: the accepted column names (default: the built-in ones;
    ingest passes ``load_header_names(paths.reference)``). ``name``: the file's name when ``path`` is not
    it (ingest reads the descriptor it opened, ``/proc/self/fd/N``: the bytes read are the file it hashed,
    whatever is renamed into the inbox meanwhile); the type is judged by this name."""
    path = Path(path)
    named = Path(name) if name is not None else path
    feed = FEEDS[feed] if isinstance(feed, str) else feed
    names = names or builtin_names()
    reason = unsupported_reason(named.name)
    if reason is not None:
        return refused(path, feed, None, reason)
    declared = SUPPORTED[named.suffix.lower()]
    if path.stat().st_size == 0:
        return refused(path, feed, declared, "文件是空的（0 字节）", unreadable=True)
    if declared == "parquet":
        from wangtai.ingest.readers.parquet import open_parquet

        return open_parquet(path, feed, [])
    actual, other = sniff(path)
    if actual is None:
        return refused(path, feed, None, f"扩展名是 {named.suffix}，内容却是{other}：{SAVE_AS}")
    notes = []
    if actual != declared and {actual, declared} != {"xlsx", "xls"}:
        notes.append(f"扩展名是 {named.suffix}，内容却是{FORMAT_LABELS[actual]}，已按内容读取")
    return _open_as(actual, path, feed, names, notes)


def _open_as(fmt: str, path: Path, feed: Feed, names: HeaderNames, notes: list[str]) -> FeedFile:
    if fmt == "parquet":
        from wangtai.ingest.readers.parquet import open_parquet

        return open_parquet(path, feed, notes)
    if fmt in ("xlsx", "xls"):
        from wangtai.ingest.readers.excel import open_excel

        return open_excel(path, fmt, names[feed.name], names, notes)
    from wangtai.ingest.readers.text import open_text

    return open_text(path, names[feed.name], names, notes)


def recognise_feed(path: str | Path, names: HeaderNames | None = None, name: str | None = None) -> list[str]:
    """The feeds whose complete header the file has, from its first rows only (for an upload whose feed is
    not chosen): usually one; none when the file cannot be read or no header is recognised. ``name``: the
    file's name when ``path`` is not it (an upload kept under a temporary name)."""
    path = Path(path)
    named = Path(name) if name is not None else path
    names = names or builtin_names()
    if unsupported_reason(named.name) is not None or path.stat().st_size == 0:
        return []
    fmt = SUPPORTED[named.suffix.lower()]
    if fmt != "parquet":
        fmt = sniff(path)[0]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            columns = set(pq.read_schema(path).names)
        except Exception:
            return []
        return [name for name, feed in FEEDS.items() if set(feed.column_names) <= columns]
    if fmt in ("xlsx", "xls"):
        from wangtai.ingest.readers.excel import sheet_heads

        grids = sheet_heads(path)
    elif fmt == "csv":
        from wangtai.ingest.readers.text import head_grids

        grids = head_grids(path)
    else:
        return []
    found = {feed for grid in grids for feed in recognise(grid, names)}
    return [name for name in FEEDS if name in found]
