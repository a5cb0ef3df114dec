"""Measure the live dashboard: rename → number on screen, idle CPU, 20 open sessions.

    python scripts/live_latency.py --data-dir DIR [--residents 69000] [--batches 20] [--sessions 20]

DIR is generated (synthetic demo at --residents, wall-clock "now") and ingested when it holds no data yet.
A real Streamlit server (its own live ingest thread, default 2 s fragment tick) and the system's headless
Chromium on the overview; each batch is written by ``wangtai.simulate`` under a hidden name and renamed
into the inbox, then the shown 今日扫码 is polled every 50 ms until it changes. Idle CPU is the server's
(and the browser's) CPU time over a quiet window with one and with 20 open overview tabs.
The figures printed go into the "Live" section of docs/benchmarks.md (by hand: they are measurements on one
machine, not a timed test).
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wangtai import e2e  # noqa: E402
from wangtai.paths import DataPaths  # noqa: E402
from wangtai.simulate import Simulator  # noqa: E402

SCANS_TODAY = "今日扫码"


def prepare(paths: DataPaths, residents: int) -> None:
    from wangtai.demo import generate
    from wangtai.ingest import ingest_all

    if (paths.warehouse / "manifest").is_dir():
        return
    paths.ensure()
    generate(paths, residents=residents)
    ingest_all(paths)


def shown(page) -> int:
    metric = page.locator('[data-testid="stMetric"]', has_text=SCANS_TODAY).first
    return int(re.sub(r"[^\d]", "", metric.locator('[data-testid="stMetricValue"]').inner_text()))


def open_overview(browser, url: str):
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    page.set_default_timeout(180_000)
    page.goto(url)
    e2e.wait_ready(page, 'h1:has-text("总览")', timeout_ms=180_000)
    page.wait_for_selector(f'[data-testid="stMetric"]:has-text("{SCANS_TODAY}")')
    return page


def latencies(page, simulator: Simulator, batches: int) -> list[float]:
    out = []
    for _ in range(batches):
        before = shown(page)
        simulator.registration_batch(random.randint(3, 12))  # a hidden name, renamed into the inbox
        start = time.monotonic()
        while shown(page) == before and time.monotonic() - start < 30:
            page.wait_for_timeout(50)
        out.append(time.monotonic() - start)
        page.wait_for_timeout(random.randint(500, 2500))  # de-phase from the fragment tick
    return out


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def browser_processes() -> list[psutil.Process]:
    me = psutil.Process()
    return [p for p in me.children(recursive=True) if "chrom" in p.name().lower()]


def idle_cpu(server: psutil.Process, seconds: float) -> tuple[float, float]:
    """(server %, browser %) of one core over a quiet window."""
    chrome = browser_processes()
    s0, b0, t0 = cpu_seconds([server]), cpu_seconds(chrome), time.monotonic()
    time.sleep(seconds)
    s1, b1, t1 = cpu_seconds([server]), cpu_seconds(chrome), time.monotonic()
    return 100 * (s1 - s0) / (t1 - t0), 100 * (b1 - b0) / (t1 - t0)


def probe_ms(url: str, repeats: int = 10) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
            response.read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--residents", type=int, default=69_000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of each idle CPU window")
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()

    paths = DataPaths(Path(args.data_dir).resolve())
    prepare(paths, args.residents)
    from playwright.sync_api import sync_playwright

    env = {"WANGTAI_LIVE_INGEST": "1", "WANGTAI_AUTH": "off"}
    os.environ.pop("WANGTAI_NOW", None)
    with e2e.streamlit_server(paths.root, env=env, timeout=180) as url, sync_playwright() as pw:
        server = next(
            p for p in psutil.Process().children(recursive=True) if "streamlit" in " ".join(p.cmdline())
        )
        browser = e2e.launch_browser(pw)
        page = open_overview(browser, url)
        simulator = Simulator(paths, bad_share=0.01)
        lat = latencies(page, simulator, args.batches)
        print("latencies", [round(x, 2) for x in lat], flush=True)
        page.wait_for_timeout(3000)
        one = idle_cpu(server, args.idle)
        print("idle one", one, flush=True)
        pages = [page] + [open_overview(browser, url) for _ in range(args.sessions - 1)]
        time.sleep(5)
        many = idle_cpu(server, args.idle)
        health = probe_ms(url)
        start = time.monotonic()
        fresh = open_overview(browser, url)
        load = time.monotonic() - start
        lat_many = latencies(fresh, simulator, 5)
        for p in [*pages, fresh]:
            p.close()
        browser.close()

    print(f"scale={args.residents} batches={len(lat)}")
    print(f"latency p50={statistics.median(lat):.2f}s p95={pct(lat, 0.95):.2f}s max={max(lat):.2f}s")
    print(f"idle 1 session: server {one[0]:.1f}% browser {one[1]:.1f}% of one core")
    print(f"idle {args.sessions} sessions: server {many[0]:.1f}% browser {many[1]:.1f}% of one core")
    print(
        f"with {args.sessions} sessions: health {health:.1f} ms, new overview ready in {load:.1f} s, "
        f"latency p50 {statistics.median(lat_many):.2f}s max {max(lat_many):.2f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
