"""Bad days in the server room (issue 12): a failure of ours never becomes a verdict on a file, no file
blocks the others, nothing outside the data directory is read, personal data on disk is private and kept
only for the retention, and no file may cost more than the limits allow."""

from __future__ import annotations

import errno
import os
import stat
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wangtai.ingest.core as core
import wangtai.ingest.store as store
from tests.test_ingest import NOW, drop, houses, manifest, registrations, residents, write_reference
from wangtai.auth import audit
from wangtai.cli import main as cli
from wangtai.ingest import faults, ingest_all, limits, upkeep
from wangtai.paths import DataPaths


@pytest.fixture
def paths(tmp_path: Path) -> DataPaths:
    data = DataPaths(tmp_path / "data")
    write_reference(data)
    return data


def visible(folder: Path) -> list[str]:
    """Every file under folder, temporary ones included (relative names)."""
    return (
        sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        if folder.exists()
        else []
    )


def outputs(paths: DataPaths) -> list[str]:
    """What ingest wrote for files: warehouse (but reference copies), quarantine, archive."""
    found = [f"quarantine/{p}" for p in visible(paths.quarantine)] + [
        f"archive/{p}" for p in visible(paths.archive)
    ]
    found += [f"warehouse/{p}" for p in visible(paths.warehouse) if not p.startswith("reference/")]
    return found


# ---- item 2: a failure of ours (disk full, permissions) is no verdict ---------------------------------


class FullDisk:
    """Writes below ``under`` fail with ``code`` (ENOSPC …) the way the OS reports them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, where: str, under: Path, code: int = errno.ENOSPC):
        self.under, self.code = str(under), code
        if where == "rows":  # the warehouse/quarantine writer streaming rows
            real = store.pq.ParquetWriter

            test = self

            class Failing(real):
                def write_table(self, table, *args, **kwargs):
                    if test.hit(self._where):
                        raise OSError(test.code, os.strerror(test.code))
                    return super().write_table(table, *args, **kwargs)

                def __init__(self, where, *args, **kwargs):
                    self._where = str(where)
                    super().__init__(where, *args, **kwargs)

            monkeypatch.setattr(store.pq, "ParquetWriter", Failing)
        elif where == "manifest":  # the manifest row (a whole small file)
            real_write = store.pq.write_table
            monkeypatch.setattr(
                store.pq,
                "write_table",
                lambda table, where, *a, **k: self.fail_or(real_write, table, where, *a, **k),
            )
        elif where == "rename":  # renaming a finished file into place
            real_replace = os.replace
            monkeypatch.setattr(
                store.os,
                "replace",
                lambda source, target: self.fail_or(real_replace, source, target, at=target),
            )
        else:
            raise ValueError(where)

    def hit(self, where) -> bool:
        return str(where).startswith(self.under)

    def fail_or(self, real, *args, at=None, **kwargs):
        where = at if at is not None else args[1]
        if self.hit(where):
            raise OSError(self.code, os.strerror(self.code))
        return real(*args, **kwargs)


@pytest.mark.parametrize(
    "where, under",
    [("rows", "warehouse/residents"), ("manifest", "warehouse/manifest"), ("rename", "warehouse/residents")],
)
def test_a_full_disk_leaves_the_file_in_the_inbox_and_it_lands_once_space_is_back(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch, where: str, under: str
) -> None:
    file = drop(paths, "residents", residents(300), "snapshot.parquet")
    with monkeypatch.context() as patch:
        FullDisk(patch, where, paths.root / under)
        assert ingest_all(paths, now=NOW) == []
    assert file.exists(), "the inbox file must stay for the next run"
    assert manifest(paths).empty, "no manifest row: a failure of ours is no verdict"
    assert outputs(paths) == [], "nothing half-written, nothing quarantined"
    status = faults.load(paths)
    assert (
        status.pause and "磁盘已满" in status.pause["message"] and "文件留在收件箱" in status.pause["message"]
    )
    assert "No space left" in status.pause["message"]

    [result] = ingest_all(paths, now=NOW)  # space is back
    assert (result.outcome, result.rows_in, result.accepted, result.quarantined) == ("accepted", 300, 300, 0)
    assert not file.exists() and len(manifest(paths)) == 1
    assert faults.load(paths).pause is None, "the pause is cleared by a run that went through"


def test_a_full_disk_stops_the_run_but_a_permission_error_only_that_file(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(paths, "houses", houses(4), "h.parquet")
    drop(paths, "registrations", registrations(5), "r.parquet")
    with monkeypatch.context() as patch:
        FullDisk(patch, "rows", paths.warehouse / "houses", errno.EACCES)
        [result] = ingest_all(paths, now=NOW)
    assert result.file_name == "r.parquet" and result.accepted == 5, "the next file went on"
    assert (paths.feed_inbox("houses") / "h.parquet").exists()
    assert "权限不足" in faults.load(paths).pause["message"]
    [result] = ingest_all(paths, now=NOW)
    assert result.file_name == "h.parquet" and result.accepted == 4


def test_the_pause_is_kept_in_memory_when_even_the_status_file_cannot_be_written(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(paths, "houses", houses(4), "h.parquet")
    real_open = os.open

    def full(path, flags, *args, **kwargs):
        ours = str(path).startswith(str(paths.warehouse)) and flags & os.O_CREAT
        if "ingest_status" in str(path) or ours:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_open(path, flags, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "open", full)
        assert ingest_all(paths, now=NOW) == []
    assert not (paths.state / faults.STATUS_FILE).exists()
    assert "磁盘已满" in faults.load(paths).pause["message"]


def test_the_data_status_page_says_ingest_is_paused(
    demo_paths: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import copy_data
    from wangtai.auth import testing

    data = copy_data(demo_paths, tmp_path / "data")
    drop(data, "houses", houses(4), "h.parquet")
    with monkeypatch.context() as patch:
        FullDisk(patch, "rows", data.warehouse / "houses")
        ingest_all(data, now=NOW)
    for name, value in {
        "WANGTAI_DATA_DIR": str(data.root),
        "WANGTAI_AUTO_DEMO": "0",
        "WANGTAI_REFRESH_SECONDS": "0",
        "WANGTAI_LIVE_INGEST": "0",
        "WANGTAI_AUTH": "off",
    }.items():
        monkeypatch.setenv(name, value)
    at = testing.open_page(None, "pages/data_status.py")
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("入库暂停：数据目录磁盘已满" in text and "空间恢复后自动重试" in text for text in errors), (
        errors
    )
    assert ":red-badge[⛔ 入库暂停]" in [m.value for m in at.markdown], "the header badge on every page"


# ---- item 3: long names; no file blocks the others --------------------------------------------------------


@pytest.mark.parametrize("name", ["a" * 240 + ".parquet", "登" * 80 + ".parquet"])
def test_a_long_file_name_lands_beside_the_others(paths: DataPaths, name: str) -> None:
    assert len(name.encode()) >= 248
    drop(paths, "registrations", registrations(3), "before.parquet")
    long_file = drop(paths, "registrations", registrations(4, start=10), name)
    drop(paths, "registrations", registrations(5, start=20), "zafter.parquet")
    os.utime(long_file, (time.time() + 1, time.time() + 1))  # in the middle of the others
    results = ingest_all(paths, now=NOW)
    assert [r.accepted for r in results] == [3, 5, 4] or sorted(r.accepted for r in results) == [3, 4, 5]
    assert all(r.outcome == "accepted" for r in results)
    rows = manifest(paths).set_index("file_name")
    assert name in rows.index, "the manifest keeps the original name"
    archived = paths.root / rows.loc[name, "archive_file"]
    assert archived.exists() and len(archived.name.encode()) <= 255 and archived.name.endswith(".parquet")
    assert pq.read_metadata(archived).num_rows == 4
    assert list(paths.feed_inbox("registrations").iterdir()) == []
    assert ingest_all(paths, now=NOW) == []


def test_a_long_name_refused_whole_fits_in_quarantine(paths: DataPaths) -> None:
    name = "坏" * 80 + ".parquet"
    drop(paths, "houses", None, name, raw=b"not parquet at all")
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "refused"
    stored = paths.root / manifest(paths).iloc[0]["quarantine_file"]
    assert stored.read_bytes() == b"not parquet at all" and len(stored.name.encode()) <= 255


def test_a_file_that_fails_unexpectedly_is_set_aside_once_and_the_others_go_on(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bad = drop(paths, "houses", houses(4), "boom.parquet")
    drop(paths, "registrations", registrations(5), "r1.parquet")
    real = core._ingest_rows

    def boom(file):
        if file.name == "boom.parquet":
            value = "4114212003" + "01011234"  # a value from the file (not on the line that raises)
            raise RuntimeError(f"a defect of ours, at {value}")
        return real(file)

    monkeypatch.setattr(core, "_ingest_rows", boom)
    with caplog.at_level("ERROR", logger="wangtai.ingest"):
        [result] = ingest_all(paths, now=NOW)
        assert result.file_name == "r1.parquet" and result.accepted == 5
        assert bad.exists() and manifest(paths).shape[0] == 1, "no verdict on the file"
        status = faults.load(paths)
        assert "boom.parquet" in status.messages()[0] and "留在收件箱" in status.messages()[0]
        drop(paths, "registrations", registrations(5, start=100), "r2.parquet")
        later = [ingest_all(paths, now=NOW) for _ in range(3)]  # not retried (nor logged) until its time
    assert [[r.file_name for r in results] for results in later] == [["r2.parquet"], [], []]
    assert sum("boom.parquet" in record.getMessage() for record in caplog.records) == 1, "recorded once"
    assert "411421200301011234" not in caplog.text, "the log names where it failed, never a value"
    assert "411421200301011234" not in (paths.state / faults.STATUS_FILE).read_text(encoding="utf-8")
    assert not core.has_inbox_files(paths), "a set-aside file does not wake the live poll every second"
    monkeypatch.setattr(core, "_ingest_rows", real)
    os.utime(bad, (time.time() + 5, time.time() + 5))  # the file changed (e.g. put in again): tried again
    [result] = ingest_all(paths, now=NOW)
    assert result.file_name == "boom.parquet" and result.accepted == 4
    assert faults.load(paths).healthy


# ---- item 10: links and other non-regular entries ----------------------------------------------------------


def test_links_folders_and_pipes_are_refused_unread_and_moved_out(paths: DataPaths, tmp_path: Path) -> None:
    inbox = paths.feed_inbox("residents")
    outside = tmp_path / "outside.parquet"
    residents(10).to_parquet(outside)
    os.symlink("/etc/passwd", inbox / "passwd.parquet")
    os.symlink(outside, inbox / "outside.parquet")
    os.mkfifo(inbox / "pipe.parquet")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "inner.parquet").write_bytes(b"x")
    os.symlink("/etc/passwd", inbox / "sub" / "link")
    drop(paths, "residents", residents(5), "real.parquet")
    results = {r.file_name: r for r in ingest_all(paths, now=NOW)}
    assert results["real.parquet"].outcome == "accepted" and results["real.parquet"].accepted == 5
    for name in ("passwd.parquet", "outside.parquet", "pipe.parquet", "sub"):
        assert results[name].outcome == "refused" and results[name].rows_in == 0, name
    assert (
        "符号链接" in results["passwd.parquet"].reason
        and "请直接放入文件本身" in results["passwd.parquet"].reason
    )
    assert "文件夹" in results["sub"].reason and "特殊文件" in results["pipe.parquet"].reason
    assert list(inbox.iterdir()) == [], "every entry moved out of the inbox"
    assert outside.exists() and Path("/etc/passwd").exists(), "the link itself moved, not its target"
    stored = manifest(paths).set_index("file_name")["quarantine_file"]
    for folder in (paths.quarantine, paths.archive):
        for path in folder.rglob("*"):
            assert not path.is_symlink() and (path.is_file() or path.is_dir()), path
    assert "/etc/passwd" in (paths.root / stored["passwd.parquet"]).read_text(encoding="utf-8")
    assert (paths.root / stored["sub"] / "inner.parquet").read_bytes() == b"x"
    residents_rows = pq.read_table(
        paths.root / manifest(paths).set_index("file_name").loc["real.parquet", "warehouse_file"]
    )
    assert residents_rows.num_rows == 5, "nothing of the outside file was ingested"
    assert len(manifest(paths)) == 5 and ingest_all(paths, now=NOW) == []


def test_a_symlinked_feed_folder_is_not_read(paths: DataPaths, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    residents(10).to_parquet(outside / "r.parquet")
    inbox = paths.feed_inbox("residents")
    inbox.rmdir()
    os.symlink(outside, inbox)
    assert ingest_all(paths, now=NOW) == []
    assert (outside / "r.parquet").exists() and manifest(paths).empty
    assert "符号链接" in faults.load(paths).folders["residents"]
    assert not core.has_inbox_files(paths)


def test_a_link_swapped_in_after_listing_is_not_followed(
    paths: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside.parquet"
    residents(10).to_parquet(outside)
    good = drop(paths, "residents", residents(5), "r.parquet")
    real_listing = core.inbox_files

    def swap_after_listing(paths_, feed):
        found = real_listing(paths_, feed)
        if feed == "residents" and good.exists():
            good.unlink()
            os.symlink(outside, good)  # what was a file when listed is a link when opened
        return found

    monkeypatch.setattr(core, "inbox_files", swap_after_listing)
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "refused" and "符号链接" in result.reason and result.rows_in == 0
    assert outside.exists() and not any(p.is_symlink() for p in paths.quarantine.rglob("*"))


# ---- item 13: private files, retention and purge -------------------------------------------------------


def test_every_folder_and_file_ingest_writes_is_private(paths: DataPaths) -> None:
    old = os.umask(0o022)
    try:
        bad = residents(20).astype(object)
        bad.at[3, "community_code"] = "bad"
        drop(paths, "residents", bad, "r.parquet")
        drop(paths, "houses", None, "broken.parquet", raw=b"not parquet")
        os.chmod(paths.feed_inbox("residents") / "r.parquet", 0o644)
        ingest_all(paths, now=NOW)
    finally:
        os.umask(old)
    seen = 0
    for top in paths.private:
        for path in [top, *top.rglob("*")]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            assert mode == (0o700 if path.is_dir() else 0o600), f"{path.relative_to(paths.root)}: {oct(mode)}"
            seen += 1
    assert seen > 15 and list((paths.quarantine / "residents").glob("*.parquet"))


def test_existing_open_folders_are_tightened_on_the_next_run(paths: DataPaths) -> None:
    paths.ensure()
    for folder in (paths.archive / "houses", paths.warehouse / "houses"):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
        (folder / "old.parquet").write_bytes(b"x")
        os.chmod(folder / "old.parquet", 0o644)
    os.chmod(paths.archive, 0o755)
    upkeep._tightened.discard(str(paths.root))
    ingest_all(paths, now=NOW)
    for path in (paths.archive, paths.archive / "houses", paths.warehouse / "houses"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE((paths.archive / "houses" / "old.parquet").stat().st_mode) == 0o600


def _ingest_on(paths: DataPaths, day, name: str, frame=None, raw=None) -> None:
    drop(paths, "houses", frame, name, raw=raw)
    ingest_all(paths, now=day)


def test_purge_removes_only_raw_files_older_than_the_retention_and_is_audited(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("WANGTAI_NOW", NOW.isoformat())
    monkeypatch.setenv("WANGTAI_RETENTION_DAYS", "30")
    _ingest_on(paths, NOW - timedelta(days=40), "old.parquet", houses(3))
    _ingest_on(paths, NOW - timedelta(days=40), "old_bad.parquet", raw=b"garbage")
    _ingest_on(paths, NOW - timedelta(days=5), "new.parquet", houses(4))
    before = manifest(paths).set_index("file_name")
    old_files = [
        paths.root / before.loc["old.parquet", "archive_file"],
        paths.root / before.loc["old_bad.parquet", "quarantine_file"],
    ]
    new_file = paths.root / before.loc["new.parquet", "archive_file"]

    assert cli(["--data-dir", str(paths.root), "purge", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "将删除 2 个" in printed and "old.parquet" in printed and all(p.exists() for p in old_files)
    assert "raw_purged" not in _audit_text(paths), "a dry run deletes nothing and records nothing"

    assert cli(["--data-dir", str(paths.root), "purge"]) == 0
    printed = capsys.readouterr().out
    assert "已删除 2 个超过保留期 30 天的原始文件" in printed
    assert not any(p.exists() for p in old_files) and new_file.exists()
    events = [line for line in _audit_text(paths).splitlines() if "raw_purged" in line]
    assert len(events) == 1 and '"rows": 2' in events[0]
    assert len(manifest(paths)) == 3, "the manifest rows stay"

    from wangtai.runner import Runner

    fresh = Runner(paths).run("data_freshness")  # queries still run with the archive file gone
    assert not fresh.empty
    # the same old file arriving again is a duplicate (a new arrival), not an interrupted move to finish
    drop(paths, "houses", houses(3), "old.parquet")
    [again] = ingest_all(paths, now=NOW)
    assert again.outcome == "duplicate_file"


def _audit_text(paths: DataPaths) -> str:
    file = audit.audit_file(paths)
    return file.read_text(encoding="utf-8") if file.exists() else ""


def test_purge_refuses_a_bad_retention_setting(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("WANGTAI_RETENTION_DAYS", "zero")
    assert cli(["--data-dir", str(paths.root), "purge"]) == 2
    assert "WANGTAI_RETENTION_DAYS" in capsys.readouterr().err


# ---- item 14: limits, and leftovers of killed runs -----------------------------------------------------


@pytest.fixture(scope="module")
def wide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20 MB Parquet file of 100,000 columns (its footer alone is 15 MB)."""
    n = 100_000
    table = pa.Table.from_arrays([pa.array([0], pa.int8())] * n, names=[f"c{i}" for i in range(n)])
    path = tmp_path_factory.mktemp("wide") / "wide.parquet"
    pq.write_table(table, path, write_statistics=False, compression="none")
    return path


def test_a_file_of_100000_columns_is_refused_fast_without_reading_it(
    paths: DataPaths, wide_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(paths, "residents", None, "wide.parquet", raw=wide_file.read_bytes())
    parsed = []
    for name in ("ParquetFile", "read_metadata"):
        real = getattr(core.pq, name)
        monkeypatch.setattr(
            core.pq, name, lambda *a, _real=real, _name=name, **k: parsed.append(_name) or _real(*a, **k)
        )
    start = time.perf_counter()
    [result] = ingest_all(paths, now=NOW)
    took = time.perf_counter() - start
    assert result.outcome == "refused" and "列数过多（100,000 列，上限 200 列）" in result.reason
    assert parsed == [], "refused from the footer's first bytes, before parsing it"
    assert took < 2.0, took


@pytest.mark.parametrize(
    "limit, value, expected",
    [
        ("MAX_FILE_BYTES", 1000, "文件过大"),
        ("MAX_ROWS", 10, "行数过多（文件声明 50 行"),
        ("MAX_ROW_GROUP_BYTES", 100, "分块"),
    ],
)
def test_files_beyond_the_limits_are_refused_before_reading(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch, limit: str, value: int, expected: str
) -> None:
    monkeypatch.setattr(limits, limit, value)
    drop(paths, "registrations", registrations(50), "big.parquet")
    monkeypatch.setattr(core, "_split_rows", lambda *a, **k: pytest.fail("the rows must not be read"))
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "refused" and expected in result.reason, result.reason
    assert (paths.root / manifest(paths).iloc[0]["quarantine_file"]).exists()


def test_the_limits_leave_a_normal_file_alone(paths: DataPaths) -> None:
    drop(paths, "residents", residents(500), "r.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "accepted" and result.accepted == 500


def test_leftover_temporary_files_of_a_killed_run_are_removed_by_the_next_run(paths: DataPaths) -> None:
    paths.ensure()
    old = time.time() - 3600
    leftovers = [
        paths.warehouse / "residents" / ".20261127T000000000000-residents-abcd1234.parquet.1a2b3c4d.tmp",
        paths.warehouse / "manifest" / ".x.parquet.1a2b3c4d.tmp",
        paths.quarantine / "houses" / ".x.parquet.1a2b3c4d.tmp",
        paths.archive / "houses" / ".20261127T0000-houses-ab__h.parquet.1a2b3c4d.tmp",
        paths.state / ".ingest_status.json.1.2.tmp",
    ]
    fresh = paths.warehouse / "registrations" / ".being-written.parquet.9f9f9f9f.tmp"  # a live writer's
    inbox_temp = paths.feed_inbox("houses") / ".writer.parquet.tmp"  # a source system's: not ours
    for path in [*leftovers, fresh, inbox_temp]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    for path in [*leftovers, inbox_temp]:
        os.utime(path, (old, old))
    upkeep._swept.pop(str(paths.root), None)  # a new process
    ingest_all(paths, now=NOW)
    assert not any(path.exists() for path in leftovers)
    assert fresh.exists() and inbox_temp.exists()


def test_a_pause_is_lifted_by_the_next_run_even_when_the_file_was_taken_out(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = drop(paths, "houses", houses(4), "h.parquet")
    with monkeypatch.context() as patch:
        FullDisk(patch, "rows", paths.warehouse / "houses")
        ingest_all(paths, now=NOW)
    file.unlink()  # an operator moved it elsewhere
    assert core.has_inbox_files(paths), "the live poll still runs: the pause is to be lifted"
    assert ingest_all(paths, now=NOW) == [] and faults.load(paths).healthy
    assert not core.has_inbox_files(paths)


def test_an_entry_swapped_in_between_the_check_and_the_move_goes_back_to_the_inbox(
    paths: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wangtai.ingest import inbox

    file = drop(paths, "houses", houses(3), "h.parquet")
    ours = file.read_bytes()
    with open(file, "rb") as handle:
        opened = os.fstat(handle.fileno())
        file.unlink()
        os.symlink("/etc/passwd", file)  # swapped after the check below said "unchanged"
        monkeypatch.setattr(inbox, "same_entry", lambda path, stat_: True)
        target = paths.archive / "houses" / "x__h.parquet"
        inbox.release(file, handle, opened, target)
    assert not target.is_symlink() and target.read_bytes() == ours, "the archive holds what was read"
    assert file.is_symlink(), "the link went back to the inbox, to be refused on its own turn"


@pytest.mark.parametrize(
    "name",
    ["a" * 240 + ".parquet", "登" * 80 + ".parquet.symlink.txt", "b" * 250, "c" * 200 + "." + "d" * 50],
)
def test_stored_names_fit_and_keep_their_extensions(name: str) -> None:
    batch = "20261127T103000000000-source_records-0123abcd"
    stored = store.stored_name(batch, name)
    assert len(stored.encode()) <= store.MAX_STORED_BYTES and stored.startswith(batch + "__")
    assert len(store.temp_name(Path(stored)).name.encode()) <= 255
    if name.endswith(".parquet") or name.endswith(".txt"):
        assert stored.endswith(name[name.index(".") :])


def test_a_symlinked_inbox_is_not_read_and_said_once(paths: DataPaths, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "houses").mkdir(parents=True)
    houses(3).to_parquet(outside / "houses" / "h.parquet")
    for feed in os.listdir(paths.inbox):
        os.rmdir(paths.inbox / feed)
    paths.inbox.rmdir()
    os.symlink(outside, paths.inbox)
    assert ingest_all(paths, now=NOW) == [] and (outside / "houses" / "h.parquet").exists()
    assert os.listdir(outside) == ["houses"], "nothing created through the link either"
    [message] = faults.load(paths).messages()
    assert "收件箱 inbox 是符号链接" in message
