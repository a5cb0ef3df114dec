"""One benchmark phase in its own process, so that its peak RSS is its own.

    python -m wangtai.bench.worker generate|ingest|serve|baseline --root DIR --out RESULT.json [...]

The parent (``wangtai.bench.harness``) sets the environment: ``WANGTAI_NOW`` (frozen), a throwaway
``WANGTAI_SECRET_FILE`` and ``WANGTAI_DATA_DIR``.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
ENTRY = REPO / "dashboard.py"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def repeat(fn: Callable[[], object], minimum: int, budget_s: float, maximum: int) -> list[float]:
    """Wall times (ms) of fn: at least `minimum` runs, more while within `budget_s`, at most `maximum`."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < maximum and (len(times) < minimum or time.perf_counter() - started < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def summary(times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "max_ms": round(max(times), 2),
    }


# ---- new data landing: a small registrations increment, ingested the normal way ----------------------

_LANDED = [0]


def catch_up(runner, out: dict) -> None:
    """What the server's background thread does after a batch landed (``wangtai.live_ingest``): the runner's
    in-memory tables brought up to the warehouse before a page asks. Timed on its own."""
    t0 = time.perf_counter()
    runner.refresh()
    out["refresh_ms"].append(round((time.perf_counter() - t0) * 1000, 1))


def land_batch(paths, rows: int = 50, id_numbers: list[str] | None = None) -> float:
    """Write a small 一家亲 increment into the inbox (re-registrations of known people, new scan ids) and
    ingest it as the source system's file would be. Returns the ingest time in ms."""
    from wangtai.ingest import ingest_all

    write_batch(paths, rows, id_numbers)
    t0 = time.perf_counter()
    ingest_all(paths)
    return (time.perf_counter() - t0) * 1000


def write_batch(paths, rows: int = 50, id_numbers: list[str] | None = None) -> Path:
    """The increment of ``land_batch`` written into the inbox under a hidden name and renamed (as a source
    system delivers it), not ingested: a server's live ingest picks it up (``wangtai.bench.browser``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from wangtai import clock

    archived = sorted((paths.archive / "registrations").glob("*.parquet"))
    sample = pq.read_table(archived[0], columns=["id_number", "unit_id", "channel", "site"]).slice(0, rows)
    if id_numbers is not None:  # these people (e.g. not registered yet) instead of the file's first ones
        sample = sample.take([i % sample.num_rows for i in range(len(id_numbers))])
        sample = sample.set_column(0, "id_number", pa.array(id_numbers, pa.string()))
    _LANDED[0] += 1
    tag = f"{os.getpid()}{_LANDED[0]:04d}{time.time_ns() % 10**6:06d}"
    now = clock.now()
    n = sample.num_rows
    table = pa.table(
        {
            "scan_id": pa.array([f"BENCH{tag}{i:05d}" for i in range(n)]),
            "scanned_at": pa.array([now] * n, pa.timestamp("us")),
            "id_number": sample.column("id_number"),
            "unit_id": sample.column("unit_id"),
            "channel": sample.column("channel"),
            "site": sample.column("site"),
        }
    )
    folder = paths.feed_inbox("registrations")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".bench_{tag}.parquet.tmp"
    pq.write_table(table, tmp)
    final = folder / f"bench_{tag}.parquet"
    os.replace(tmp, final)
    return final


# ---- phases -------------------------------------------------------------------------------------------


def phase_generate(paths, args) -> dict:
    from wangtai.demo import generate

    t0 = time.perf_counter()
    result = generate(paths, residents=args.residents, seed=args.seed)
    return {
        "seconds": round(time.perf_counter() - t0, 2),
        "residents_rows": result.get("residents_rows"),
        "residents_living": result.get("residents_living"),
        "newcomers_living": result.get("newcomers_living"),
        "houses": result.get("houses"),
        "scans": result.get("scans"),
        "source_records": sum((result.get("source_records") or {}).values()),
        "files": len(result.get("files") or []),
    }


def phase_ingest(paths, args) -> dict:
    from wangtai.ingest import ingest_all

    t0 = time.perf_counter()
    results = ingest_all(paths)
    seconds = time.perf_counter() - t0
    return {
        "seconds": round(seconds, 2),
        "files": len(results),
        "accepted_rows": sum(r.accepted for r in results),
        "quarantined_rows": sum(r.quarantined for r in results),
        "warehouse_mb": round(sum(f.stat().st_size for f in paths.warehouse.rglob("*.parquet")) / 2**20, 1),
    }


def _scopes(runner) -> tuple[dict, dict]:
    """The subdistrict (no filter) and the community with the most residents, with a unit of each for the
    door-to-door list (pages always ask it for one unit)."""
    share = runner.run("community_share", {})
    code = share.sort_values(["residents", "community_code"], ascending=[False, True]).iloc[0][
        "community_code"
    ]
    whole = runner.run("unit_progress", {})
    local = runner.run("unit_progress", {"community_code": code})
    return (
        {"community_code": None, "unit_id": whole.iloc[0]["unit_id"]},
        {"community_code": str(code), "unit_id": local.iloc[0]["unit_id"]},
    )


PAGE_ROWS = 1_000  # a list query's preview as the page asks it (pages/campaign.py DOOR_PREVIEW_ROWS)


def _variants(spec, scope: dict) -> dict[str, dict]:
    """The ways the pages run a query: as the page asks it and, for a list with a ``limit``, the export of
    every row too (timed as its own row, "<name> · export")."""
    params = {}
    if "community_code" in spec.params and scope["community_code"]:
        params["community_code"] = scope["community_code"]
    if "unit_id" in spec.params:
        params["unit_id"] = scope["unit_id"]
    if "limit" not in spec.params:
        return {spec.name: params}
    return {spec.name: {**params, "limit": PAGE_ROWS}, f"{spec.name} · export": params}


class _Recorder:
    """Wraps Runner.run to record which queries a page asks for and how long the runner takes."""

    def __init__(self) -> None:
        from wangtai.runner import Runner

        self.calls: list[tuple[str, dict, float]] = []
        self._original = Runner.run
        recorder = self

        def run(runner_self, name, params=None):
            t0 = time.perf_counter()
            try:
                return recorder._original(runner_self, name, params)
            finally:
                recorder.calls.append((name, dict(params or {}), (time.perf_counter() - t0) * 1000))

        Runner.run = run

    def take(self) -> list[tuple[str, dict, float]]:
        calls, self.calls = self.calls, []
        return calls


def _tokens(paths, pages: tuple[str, ...]) -> dict[str, str]:
    """A logged-in session for each page, of a role that may open it (the login gate of wangtai.auth)."""
    try:
        from wangtai.auth import roles
        from wangtai.auth.testing import session_token
        from wangtai.ui.login import TOKEN_KEY  # noqa: F401  (the gate the token is for)
    except ImportError:  # no login gate
        return {}
    candidates = [r for r in vars(roles).values() if isinstance(r, roles.Role)]
    candidates.sort(key=lambda r: -len(r.allowed_pages(pages)))  # the role that sees most pages first
    made: dict[str, str] = {}
    tokens = {}
    for page in pages:
        role = next((r for r in candidates if r.may_open(page, pages)), None)
        if role is not None:
            if role.key not in made:
                made[role.key] = session_token(paths, role.key)
            tokens[page] = made[role.key]
    return tokens


_COMPONENTS: list = []  # the one component registry of the "server" (see _render)


def _render(page: str, token: str | None = None) -> tuple[float, list[str]]:
    """One render of ``page`` in a new session (a new AppTest), as a server would do it.

    A new AppTest also builds Streamlit's component registry, scanning the metadata of every installed
    package (60–100 ms here) — a server does that once at start, not per page: all renders share the
    first one's registry."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ENTRY), default_timeout=600)
    if _COMPONENTS and hasattr(at, "_bidi_component_manager"):
        at._bidi_component_manager = _COMPONENTS[0]
    if token:
        from wangtai.ui.login import TOKEN_KEY

        at.session_state[TOKEN_KEY] = token
    if page != "dashboard.py":
        at.switch_page(page)
    t0 = time.perf_counter()
    at.run()
    elapsed = (time.perf_counter() - t0) * 1000
    if not _COMPONENTS and getattr(at, "_bidi_component_manager", None) is not None:
        _COMPONENTS.append(at._bidi_component_manager)
    problems = [str(e.value)[:200] for e in at.exception] + [str(e.value)[:200] for e in at.error]
    return elapsed, problems


def phase_serve(paths, args) -> dict:
    """Our side: the runner the pages use (one per process, as under `streamlit run`), every named query
    cold (right after new data landed) and warm, then every page through AppTest."""
    from streamlit.logger import set_log_level

    set_log_level("error")  # AppTest outside a server: "missing ScriptRunContext" noise
    from wangtai.ui import data as ui_data
    from wangtai.ui.setup import PAGES

    out: dict = {"queries": {}, "pages": {}, "land_ms": [], "refresh_ms": []}
    recorder = _Recorder()
    t0 = time.perf_counter()
    runner = ui_data.runner()
    runner.run("communities", {})
    out["startup_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    out["rss_after_startup_mb"] = round(current_rss_mb(), 1)
    subdistrict, community = _scopes(runner)
    out["community"] = community
    recorder.take()

    for name in runner.names():
        spec = runner.spec(name)
        rows: dict[str, dict] = {}
        for label, scope in (("subdistrict", subdistrict), ("community", community)):
            for key, params in _variants(spec, scope).items():
                out["land_ms"].append(round(land_batch(paths), 1))
                catch_up(runner, out)
                t0 = time.perf_counter()
                frame = runner.run(name, params)
                cold = (time.perf_counter() - t0) * 1000
                warm = repeat(lambda n=name, p=params: runner.run(n, p), args.repeats, args.budget, 200)
                timing = {"cold_ms": round(cold, 2), "rows": len(frame), "params": params, **summary(warm)}
                rows.setdefault(key, {})[label] = timing
        out["queries"].update(rows)
        for key, row in rows.items():
            print(
                f"  query {key}: {row['subdistrict']['cold_ms']:.0f} / {row['subdistrict']['p95_ms']:.0f} ms",
                file=sys.stderr,
                flush=True,
            )
    recorder.take()

    tokens = _tokens(paths, tuple(page for page, _, _ in PAGES))
    # A running server has imported the page code and built its component registry before anyone opens
    # a page: one unmeasured render, so that the first measured page does not carry that start-up.
    _render(PAGES[0][0], tokens.get(PAGES[0][0]))
    recorder.take()
    for page, label, _ in PAGES:
        out["land_ms"].append(round(land_batch(paths), 1))
        catch_up(runner, out)
        after, problems = _render(page, tokens.get(page))
        calls = recorder.take()
        warm = []
        for _ in range(max(3, args.page_repeats)):
            elapsed, more = _render(page, tokens.get(page))
            warm.append(elapsed)
            problems += more
        recorder.take()
        out["pages"][page] = {
            "label": label,
            "refresh_ms": out["refresh_ms"][-1],
            "after_new_data_ms": round(after, 1),
            "queries_ms": round(sum(c[2] for c in calls), 1),
            "calls": [[name, params] for name, params, _ in calls],
            "warm": summary(warm),
            "problems": sorted(set(problems)),
        }
        print(
            f"  page {page}: {after:.0f} ms after new data, {statistics.median(warm):.0f} ms warm",
            file=sys.stderr,
            flush=True,
        )
    out["rss_end_mb"] = round(current_rss_mb(), 1)
    return out


def phase_baseline(paths, args) -> dict:
    """The plain-pandas baseline: the same figures each page asked the runner for, the tutorial way."""
    from wangtai.bench import baseline

    serve = json.loads(Path(args.serve_result).read_text(encoding="utf-8"))
    out: dict = {"pages": {}}
    for page, info in serve["pages"].items():
        calls = []
        for name, params in info["calls"]:
            if [name, params] not in calls:
                calls.append([name, params])
        t0 = time.perf_counter()
        frames = baseline.load(paths)
        load_ms = (time.perf_counter() - t0) * 1000
        t1 = time.perf_counter()
        for name, params in calls:
            baseline.QUERIES[name](frames, **params)
        compute_ms = (time.perf_counter() - t1) * 1000

        def compute(frames=frames, calls=calls):
            for name, params in calls:
                baseline.QUERIES[name](frames, **params)

        warm = repeat(compute, 1 if compute_ms > 5000 else 3, args.budget, 50)  # big scales: slow
        out["pages"][page] = {
            "after_new_data_ms": round(load_ms + compute_ms, 1),
            "load_ms": round(load_ms, 1),
            "warm": summary(warm),
        }
        del frames
        print(
            f"  baseline {page}: {load_ms + compute_ms:.0f} ms (load {load_ms:.0f})",
            file=sys.stderr,
            flush=True,
        )
    return out


PHASES = {
    "generate": phase_generate,
    "ingest": phase_ingest,
    "serve": phase_serve,
    "baseline": phase_baseline,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wangtai.bench.worker")
    parser.add_argument("phase", choices=sorted(PHASES))
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--residents", type=int, default=69_000)
    parser.add_argument("--seed", type=int, default=20260315)
    parser.add_argument("--repeats", type=int, default=20, help="warm runs of each query (at least)")
    parser.add_argument("--page-repeats", type=int, default=5, help="warm renders of each page")
    parser.add_argument("--budget", type=float, default=1.5, help="seconds of repeats per item (soft cap)")
    parser.add_argument(
        "--serve-result", help="baseline: the serve phase's result (which queries each page ran)"
    )
    args = parser.parse_args(argv)

    from wangtai.paths import DataPaths

    paths = DataPaths(Path(args.root).resolve())
    os.environ["WANGTAI_DATA_DIR"] = str(paths.root)
    result = PHASES[args.phase](paths, args)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
