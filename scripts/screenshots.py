"""Screenshots of every page: start `streamlit run dashboard.py` over a data directory, drive the system's
headless Chromium with playwright, save PNGs to artifacts/screenshots/ (git-ignored).

    python scripts/screenshots.py [--data-dir DIR] [--sizes 1920x1080,1366x768] [--community CODE]

Never runs `playwright install`: it launches /usr/bin/chromium (or $WANGTAI_CHROMIUM) with the arguments
verified in DESIGN.md, and waits for Streamlit's readiness marker before each shot.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("WANGTAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SKELETON = '[data-testid="stSkeleton"]'
# (file stem, URL path, title text the page shows when it is drawn)
PAGES = [
    ("overview", "", "总览"),
    ("community_share", "community_share", "社区占比"),
    ("density_map", "density_map", "密度地图"),
    ("campaign", "campaign", "登记进度"),
    ("data_status", "data_status", "数据状态"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "WANGTAI_DATA_DIR": str(data_dir), "WANGTAI_REFRESH_SECONDS": "0"}
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port)]
    log = log_path.open("w")
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited ({proc.returncode}) before it was healthy")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"streamlit not healthy after {timeout} s")


def wait_ready(page, title: str, timeout_ms: int = 120_000) -> None:
    """Script finished, no skeleton left, the page's own title drawn, charts and maps painted."""
    page.wait_for_selector(READY, timeout=timeout_ms)
    page.wait_for_function(f"!document.querySelector('{SKELETON}')", timeout=timeout_ms)
    page.get_by_role("heading", level=1).filter(has_text=title).first.wait_for(timeout=timeout_ms)
    page.wait_for_selector(READY, timeout=timeout_ms)
    if page.locator('[data-testid="stDeckGlJsonChart"]').count():
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=timeout_ms)
    if page.locator('[data-testid="stPlotlyChart"]').count():
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout_ms)
    page.wait_for_timeout(1500)  # WebGL and plotly transitions settle


def shoot(
    url: str, out: Path, sizes: list[tuple[int, int]], community: str | None, scheme: str
) -> list[Path]:
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width, height in sizes:
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="zh-CN", color_scheme=scheme
                )
                page = context.new_page()
                targets = [(stem, path, title, None) for stem, path, title in PAGES]
                if community:
                    targets += [(f"{stem}_community", path, title, community) for stem, path, title in PAGES]
                for stem, path, title, code in targets:
                    query = f"?community={code}" if code else ""
                    page.goto(f"{url}/{path}{query}", wait_until="domcontentloaded")
                    wait_ready(page, title)
                    file = out / f"{stem}_{width}x{height}{'' if scheme == 'dark' else '_' + scheme}.png"
                    page.screenshot(path=str(file))
                    saved.append(file)
                    print(f"saved {file.relative_to(REPO) if file.is_relative_to(REPO) else file}")
                context.close()
        finally:
            browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("WANGTAI_DATA_DIR", "data"))
    parser.add_argument("--out", default=str(REPO / "artifacts" / "screenshots"))
    parser.add_argument("--sizes", default="1920x1080,1366x768")
    parser.add_argument("--community", help="also shoot every page filtered to this community code")
    parser.add_argument("--scheme", choices=("dark", "light"), default="dark", help="browser colour scheme")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    port = free_port()
    url = f"http://localhost:{port}"
    proc = start_server(Path(args.data_dir).resolve(), port, out / "streamlit.log")
    try:
        wait_healthy(proc, url)
        shoot(url, out, sizes, args.community, args.scheme)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
