"""How fast the inbox readers are (issue 13): Excel and CSV next to Parquet, each measurement in its own
process so that its peak RSS is its own.

    python -m wangtai.bench.readers [--root bench-data/readers] [--xlsx-rows 100000] [--csv-rows 1000000]

Builds, from the synthetic demo's residents snapshot: a workbook of ``--xlsx-rows`` residents (a title row,
Chinese headers, id numbers as text, dates as Excel dates), the same rows ``--csv-rows`` times over as a
GB18030 and a UTF-8 CSV, and as Parquet. Then reads each (``--runs`` times: median wall and CPU time —
user + system, steadier than wall time on a shared machine — and the highest peak RSS):
the raw Excel readers (python-calamine; fastexcel when installed), and ``open_feed_file`` all the way to
contract-typed batches; and, end to end, the real ``ingest_all`` of each file dropped into a fresh data
directory's ``inbox/residents/`` (reference data, limits, reading, every row check, pseudonymization, the
warehouse and manifest written, the file archived). ``--ingest-only``: only those. Prints Markdown tables
(docs/benchmarks.md, "Reading Excel and CSV").

The CSV and Parquet files repeat the snapshot with each copy's id numbers moved to another province code
(first two digits 91–99), so that a million rows are about a million people, as in a real snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEADERS = ["身份证号", "姓名", "联系电话", "人口类型", "社区代码", "管理单位编码", "房屋编号", "纬度", "经度",
           "来源原因", "来到本地日期", "居住状态", "更新时间"]  # fmt: skip


def _demo_residents(root: Path, rows: int):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from wangtai.demo import generate
    from wangtai.paths import DataPaths

    paths = DataPaths(root / "demo")
    if not list(paths.feed_inbox("residents").glob("*.parquet")):
        generate(paths, residents=min(max(rows, 10_000), 110_000), seed=20260315, bad_rows=0.0)
    table = pq.read_table(next(paths.feed_inbox("residents").glob("*.parquet")))
    copies = -(-rows // table.num_rows)
    return pa.concat_tables([_moved(table, k) for k in range(copies)]).slice(0, rows)


def _moved(table, copy: int):
    """The table with its id numbers in province 90 + copy (copy 0 as it is), check characters recomputed:
    other people (a province code no real one has), the same shape."""
    if copy == 0:
        return table
    import pyarrow as pa

    from wangtai.idnumber import check_char

    ids = [f"{90 + copy}{i[2:17]}" for i in table.column("id_number").to_pylist()]
    moved = pa.array([i + check_char(i) for i in ids], pa.string())
    return table.set_column(table.schema.get_field_index("id_number"), "id_number", moved)


def build(root: Path, xlsx_rows: int, csv_rows: int) -> dict[str, Path]:
    """The files read, built once (kept under root)."""
    import io

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    root.mkdir(parents=True, exist_ok=True)
    files = {
        "xlsx": root / f"residents_{xlsx_rows}.xlsx",
        "gb18030": root / f"residents_{csv_rows}_gb18030.csv",
        "utf8": root / f"residents_{csv_rows}_utf8.csv",
        "parquet": root / f"residents_{csv_rows}.parquet",
    }
    if all(path.exists() for path in files.values()):
        return files
    table = _demo_residents(root, max(xlsx_rows, csv_rows))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("实有人口")
    sheet.append(["王台街道实有人口登记表（合成演示数据）"])
    sheet.append(HEADERS)
    for row in zip(
        *(table.column(n).slice(0, xlsx_rows).to_pylist() for n in table.column_names), strict=True
    ):
        sheet.append(list(row))
    book.save(files["xlsx"])
    rows = table.slice(0, csv_rows)
    pq.write_table(rows, files["parquet"])
    buffer = io.BytesIO()
    pacsv.write_csv(rows.rename_columns(HEADERS), buffer)
    text = buffer.getvalue().decode("utf-8")
    files["utf8"].write_bytes(text.encode("utf-8"))
    files["gb18030"].write_bytes(text.encode("gb18030"))
    return files


# ---- one measurement, in a child process --------------------------------------------------------------


def _calamine(path: str) -> int:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    return sum(1 for _ in book.get_sheet_by_index(0).iter_rows()) - 2


def _fastexcel(path: str) -> int:
    import fastexcel

    return fastexcel.read_excel(path).load_sheet(0, header_row=1).to_arrow().num_rows


def _reader(path: str) -> int:
    from wangtai.ingest.readers import open_feed_file

    with open_feed_file(path, "residents") as found:
        assert found.refusal is None, found.refusal
        return sum(batch.num_rows for batch in found.batches())


def _parquet_today(path: str) -> int:
    """Today's Parquet path: batches cast to the contract."""
    import pyarrow.parquet as pq

    from wangtai.contract import FEEDS
    from wangtai.ingest.validate import cast_batch

    rows = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=500_000):
        cast_batch(batch, FEEDS["residents"])
        rows += batch.num_rows
    return rows


def _ingest(path: str) -> dict:
    """The real ingest of the file, dropped into a fresh data directory (the demo's reference data)."""
    import shutil
    import tempfile

    from wangtai.ingest import ingest_all
    from wangtai.paths import DataPaths

    source = Path(path)
    root = Path(tempfile.mkdtemp(dir=source.parent, prefix=".ingest-"))
    try:
        paths = DataPaths(root).ensure()
        shutil.copytree(source.parent / "demo" / "reference", paths.reference, dirs_exist_ok=True)
        os.link(source, paths.feed_inbox("residents") / source.name)  # ingest moves the link to archive/
        [result] = [r for r in ingest_all(paths) if r.feed == "residents"]
        if result.outcome != "accepted":
            raise RuntimeError(result.describe())
        return {"rows": result.rows_in, "accepted": result.accepted, "duplicates": result.duplicates}
    finally:
        shutil.rmtree(root)


MEASURES = {
    "calamine": _calamine,
    "fastexcel": _fastexcel,
    "reader": _reader,
    "parquet": _parquet_today,
    "ingest": _ingest,
}


def child(measure: str, path: str) -> None:
    import pyarrow  # noqa: F401 — imported before the baseline, as any ingest process has it

    import wangtai.ingest.readers  # noqa: F401

    if measure == "fastexcel":
        import fastexcel  # noqa: F401
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    found = MEASURES[measure](path)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peak, base = after.ru_maxrss / 1024, before.ru_maxrss / 1024
    found = found if isinstance(found, dict) else {"rows": found}
    print(json.dumps({**found, "seconds": seconds, "cpu": cpu, "peak_mb": peak, "base_mb": base}))


def _run(arguments: list[str], check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "wangtai.bench.readers", *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    if check and done.returncode != 0:
        raise RuntimeError(done.stderr)
    return done


def measure(what: str, path: Path, runs: int) -> dict | None:
    results = []
    for _ in range(runs):
        done = _run(["--child", what, str(path)], check=False)
        if done.returncode != 0:
            if "ModuleNotFoundError" in done.stderr:
                return None
            raise RuntimeError(done.stderr)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        **{k: v for k, v in results[0].items() if k not in ("seconds", "cpu", "peak_mb", "base_mb")},
        "seconds": statistics.median(r["seconds"] for r in results),
        "cpu": statistics.median(r["cpu"] for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
        "added_mb": max(r["peak_mb"] - r["base_mb"] for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="bench-data/readers")
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("MEASURE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ingest-only", action="store_true", help="only the end-to-end ingest table")
    args = parser.parse_args(argv)
    os.environ.setdefault("WANGTAI_SECRET_FILE", str(Path(args.root).resolve() / "pseudonym.key"))
    if args.child:
        child(*args.child)
        return 0
    if args.build_only:
        files = build(Path(args.root), args.xlsx_rows, args.csv_rows)
        print(json.dumps({k: str(v) for k, v in files.items()}))
        return 0
    # built in a child: a process's peak RSS carries over to the processes it starts (Linux keeps it
    # across exec), so this one stays small
    built = _run(["--root", args.root, "--xlsx-rows", str(args.xlsx_rows), "--csv-rows", str(args.csv_rows),
                  "--build-only"])  # fmt: skip
    files = {k: Path(v) for k, v in json.loads(built.stdout.strip().splitlines()[-1]).items()}
    plan = [
        ("Excel .xlsx", "python-calamine: cells only", "calamine", "xlsx"),
        ("Excel .xlsx", "fastexcel: cells to Arrow", "fastexcel", "xlsx"),
        ("Excel .xlsx", "open_feed_file → contract batches", "reader", "xlsx"),
        ("CSV GB18030", "open_feed_file → contract batches", "reader", "gb18030"),
        ("CSV UTF-8", "open_feed_file → contract batches", "reader", "utf8"),
        ("Parquet", "today: iter_batches + cast_batch", "parquet", "parquet"),
        ("Parquet", "open_feed_file → batches", "reader", "parquet"),
    ]
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.runs} runs each\n")
    if not args.ingest_only:
        _reader_table(plan, files, args.runs)
    _ingest_table(files, args.runs)
    print(f"\nload average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _reader_table(plan, files: dict[str, Path], runs: int) -> None:
    print("| file | rows | what is measured | wall (median) | CPU (median) | peak RSS | above imports |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for kind, what, name, key in plan:
        result = measure(name, files[key], runs)
        if result is None:
            print(f"| {kind} | | {what} | not installed | | | |")
            continue
        print(
            f"| {kind} | {result['rows']:,} | {what} | {result['seconds']:.2f} s | {result['cpu']:.2f} s "
            f"| {result['peak_mb']:.0f} MB | {result['added_mb']:.0f} MB |",
            flush=True,
        )


def _ingest_table(files: dict[str, Path], runs: int) -> None:
    """``ingest_all`` end to end, each file the only one in a fresh inbox."""
    print("\n| file | rows | accepted | wall (median) | CPU (median) | peak RSS | above imports |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, key in (("Excel .xlsx", "xlsx"), ("CSV GB18030", "gb18030"), ("Parquet", "parquet")):
        result = measure("ingest", files[key], runs)
        print(
            f"| {kind} | {result['rows']:,} | {result['accepted']:,} | {result['seconds']:.2f} s "
            f"| {result['cpu']:.2f} s | {result['peak_mb']:.0f} MB | {result['added_mb']:.0f} MB |",
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
