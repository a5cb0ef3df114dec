"""Ingest: inbox → validate → pseudonymize → warehouse / quarantine / archive, with a manifest row per file.

Public API (used by the CLI and the UI):

- ``ingest_all(paths, now=None, wait=True) -> list[FileResult]`` — reference data, then every inbox file;
  one run at a time (``wait=False``: None at once when another process is ingesting).
- ``list_held(paths) -> DataFrame`` and ``accept_held(paths, batch_id, operator)`` — held snapshots.
- ``watch(paths, interval=1.0, stop=None)`` — poll the inbox and ingest whenever files are waiting.
"""

from wangtai.ingest.core import FileResult, ingest_all, watch
from wangtai.ingest.errors import IngestError
from wangtai.ingest.held import accept_held, list_held

__all__ = ["FileResult", "IngestError", "accept_held", "ingest_all", "list_held", "watch"]
