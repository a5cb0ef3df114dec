"""A real Streamlit server and the system's headless Chromium, for browser tests and screenshots.

Launch arguments and the readiness rule are the ones verified on these machines (DESIGN.md).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wangtai import settings

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = str(settings.get("chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# (file stem, URL path, the title the page shows once drawn)
PAGES = (
    ("overview", "", "总览"),
    ("community_share", "community_share", "社区占比"),
    ("density_map", "density_map", "密度地图"),
    ("campaign", "campaign", "登记进度"),
    ("data_status", "data_status", "数据状态"),
)
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SKELETON = '[data-testid="stSkeleton"]'


def light_theme_env() -> dict[str, str]:
    """The light theme's settings (.streamlit/light-theme.env) as environment variables for a server."""
    lines = (REPO / ".streamlit" / "light-theme.env").read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(data_dir: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Iterator[str]:
    """Run `streamlit run dashboard.py` on a free port over ``data_dir``; yields the base URL."""
    server_env = {**os.environ, "WANGTAI_DATA_DIR": str(data_dir), "WANGTAI_AUTO_DEMO": "0", **(env or {})}
    with running_app(REPO, "dashboard.py", data_dir / "streamlit.log", server_env, timeout) as url:
        yield url


@contextmanager
def running_app(
    folder: Path, script: str, log_file: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[str]:
    """`streamlit run SCRIPT` from ``folder`` on a free port, its output in ``log_file``; yields the base URL
    once healthy and stops the server on the way out."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port)]
    log = log_file.open("w")
    proc = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        _wait_healthy(proc, url, timeout)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_healthy(proc: subprocess.Popen, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit at {url} not healthy after {timeout} s")


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def wait_ready(page, content_selector: str | None = None, timeout_ms: int = 30_000) -> None:
    """Wait until Streamlit finished the script run and no skeleton remains (and the page's own content)."""
    page.wait_for_selector(READY, timeout=timeout_ms)
    if content_selector:
        page.wait_for_selector(content_selector, timeout=timeout_ms)
    page.wait_for_function(f"!document.querySelector('{SKELETON}')", timeout=timeout_ms)
    page.wait_for_selector(READY, timeout=timeout_ms)


def wait_painted(page, timeout_ms: int = 60_000) -> None:
    """After wait_ready: maps have a canvas and plotly charts an SVG, and WebGL had time to draw."""
    if page.locator('[data-testid="stDeckGlJsonChart"]').count():
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=timeout_ms)
    if page.locator('[data-testid="stPlotlyChart"]').count():
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout_ms)
    page.wait_for_timeout(1500)


def leader_session(data_dir: Path) -> str:
    """A session token of a new 领导 user in the user store WANGTAI_AUTH_DIR names (a throwaway one)."""
    from wangtai.auth.testing import session_token
    from wangtai.paths import DataPaths

    return session_token(DataPaths(data_dir), "领导")


def shoot_pages(
    browser,
    url: str,
    out: Path,
    size: tuple[int, int],
    theme: str,
    query: str = "",
    token: str | None = None,
) -> list[Path]:
    """Screenshot every page at one viewport size; files are named <page>_<w>x<h>_<theme>.png. With
    ``token``, the pages are opened in that logged-in session (its cookie)."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    if token:
        from wangtai.auth.testing import browser_cookie

        context.add_cookies([browser_cookie(token, url)])
    page = context.new_page()
    saved = []
    try:
        for stem, path, title in PAGES:
            page.goto(f"{url}/{path}{query}", wait_until="domcontentloaded")
            wait_ready(page, f'h1:has-text("{title}")')
            wait_painted(page)
            file = out / f"{stem}_{width}x{height}_{theme}.png"
            page.screenshot(path=str(file))
            saved.append(file)
    finally:
        context.close()
    return saved
