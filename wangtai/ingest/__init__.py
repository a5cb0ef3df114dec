"""Ingest: inbox → validate → pseudonymize → warehouse / quarantine / archive, with a manifest row per file.

Public API (used by the CLI and the UI):

- ``ingest_all(paths, now=None, wait=True) -> list[FileResult]`` — reference data, then every inbox file;
  one run at a time (``wait=False``: None at once when another process is ingesting).
- ``list_held(paths) -> DataFrame`` and ``accept_held(paths, batch_id, operator)`` — held snapshots.
- ``watch(paths, interval=1.0, stop=None)`` — poll the inbox and ingest whenever files are waiting.
- ``core.dry_run(paths, feed, path, name)`` — what ingest would record for a file, nothing written (the
  upload preview, ``wangtai.ingest.upload``).

Parquet, Excel and CSV files are read (``wangtai.ingest.readers``); a file of another type is refused with a
reason, temporary names (``.x``, ``~$x.xlsx``) are left alone.

A failure of ours (disk full, permissions) is never a verdict on a file: it stays in the inbox and ingest
is paused until a run goes through (``wangtai.ingest.faults``); links and other non-regular entries are
refused unread (``wangtai.ingest.inbox``); files beyond ``wangtai.ingest.limits`` are refused before their
data is read; ``wangtai.ingest.upkeep`` sweeps leftover temporary files, keeps modes private and purges
raw files past the retention.
"""

from wangtai.ingest.core import FileResult, ingest_all, watch
from wangtai.ingest.errors import IngestError
from wangtai.ingest.held import accept_held, list_held

__all__ = ["FileResult", "IngestError", "accept_held", "ingest_all", "list_held", "watch"]
